"""Image verbs: import, images, inspect, history, tag, rmi, save, load."""
from __future__ import annotations

import fnmatch
import sys

from reference_impl import archive, humanize, images, refs
from reference_impl.cli import output
from reference_impl.cli.filters import parse_filters
from reference_impl.errors import EngineError, InvalidInput, NotFound
from reference_impl.removal import Deleter, prune_images
from reference_impl.store import Store


def register(verbs, management: bool = False) -> None:
    p = verbs.add_parser("import", help="create an image from a tarball")
    p.add_argument("-c", "--change", action="append", default=[])
    p.add_argument("-m", "--message", default="")
    p.add_argument("file")
    p.add_argument("reference", nargs="?")
    p.set_defaults(handler=cmd_import)

    p = verbs.add_parser("ls" if management else "images", help="list images")
    _images_args(p)
    if management:
        p = verbs.add_parser("list")
        _images_args(p)

    p = verbs.add_parser("inspect", help="show low-level information")
    p.add_argument("-f", "--format")
    p.add_argument("--type", choices=["image", "container"], default="image" if management else None)
    p.add_argument("-s", "--size", action="store_true")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_inspect)

    p = verbs.add_parser("history", help="show an image's history")
    p.add_argument("-H", "--human", type=_bool, default=True)
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--format")
    p.add_argument("image")
    p.set_defaults(handler=cmd_history)

    p = verbs.add_parser("tag", help="tag an image")
    p.add_argument("source")
    p.add_argument("target")
    p.set_defaults(handler=cmd_tag)

    p = verbs.add_parser("rm" if management else "rmi", help="remove images")
    p.add_argument("-f", "--force", action="store_true")
    p.add_argument("--no-prune", action="store_true")
    p.add_argument("images", nargs="+")
    p.set_defaults(handler=cmd_rmi)

    if management:
        p = verbs.add_parser("prune", help="remove unused images")
        p.add_argument("-a", "--all", action="store_true")
        p.add_argument("-f", "--force", action="store_true")
        p.add_argument("--filter", action="append", default=[])
        p.set_defaults(handler=cmd_image_prune)

    p = verbs.add_parser("save", help="save images to a tar archive")
    p.add_argument("-o", "--output")
    p.add_argument("images", nargs="+")
    p.set_defaults(handler=cmd_save)

    p = verbs.add_parser("load", help="load images from a tar archive")
    p.add_argument("-i", "--input")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(handler=cmd_load)


def _bool(text: str) -> bool:
    return text.lower() in ("1", "true", "yes")


def _images_args(p) -> None:
    p.add_argument("-a", "--all", action="store_true")
    p.add_argument("-q", "--quiet", action="store_true")
    p.add_argument("--no-trunc", action="store_true")
    p.add_argument("--digests", action="store_true")
    p.add_argument("-f", "--filter", action="append", default=[])
    p.add_argument("--format")
    p.add_argument("repository", nargs="?")
    p.set_defaults(handler=cmd_images)


# --- import -----------------------------------------------------------------------------

def cmd_import(store: Store, args) -> int:
    ref = refs.parse_tagged(args.reference) if args.reference else None
    if args.file == "-":
        image_id = images.import_layer(store, sys.stdin.buffer, ref, args.change, args.message)
    else:
        try:
            with open(args.file, "rb") as f:
                image_id = images.import_layer(store, f, ref, args.change, args.message)
        except FileNotFoundError:
            raise EngineError(f"open {args.file}: no such file or directory") from None
    print(image_id)
    return 0


# --- images --------------------------------------------------------------------------------

IMAGE_COLUMNS = {"Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "ID": "IMAGE ID",
                 "CreatedSince": "CREATED", "Size": "SIZE", "CreatedAt": "CREATED AT"}


def _matches_reference(repo: str, tag: str, pattern: str) -> bool:
    name, _, want_tag = pattern.partition(":") if ":" in pattern.rsplit("/", 1)[-1] else (pattern, "", "")
    if not fnmatch.fnmatchcase(repo, name):
        return False
    return not want_tag or fnmatch.fnmatchcase(tag, want_tag)


def image_rows(store: Store, args) -> list[dict]:
    filters = parse_filters(args.filter, {"dangling", "label", "reference", "before", "since"})
    all_images = store.images.all()
    parents = {img.parent for img in all_images if img.parent}
    rows = []
    for image in sorted(all_images, key=lambda i: i.config.get("created", ""), reverse=True):
        tags = store.images.refs_of(image.id)
        digests = store.images.digests_of(image.id)
        dangling = not tags and not digests
        if image.id in parents and not args.all and dangling:
            continue  # an intermediate image: only -a shows it
        if "dangling" in filters:
            want = filters["dangling"][0].lower() in ("true", "1")
            if (not tags) != want:
                continue
        if "label" in filters and not all(_label_matches(image.labels, f) for f in filters["label"]):
            continue
        pairs = [tuple(t.rsplit(":", 1)) for t in tags] or [("<none>", "<none>")]
        for repo, tag in pairs:
            if args.repository and (repo == "<none>" or not _matches_reference(repo, tag, args.repository)):
                continue
            if "reference" in filters and not any(_matches_reference(repo, tag, p) for p in filters["reference"]):
                continue
            digest = next((d.split("@", 1)[1] for d in digests if d.split("@", 1)[0] == repo), "<none>")
            size = images.size_of(store, image)
            rows.append({"Repository": repo, "Tag": tag, "Digest": digest,
                         "ID": output.truncate_id(image.id, args.no_trunc),
                         "CreatedSince": humanize.ago(image.config.get("created", "")),
                         "CreatedAt": image.config.get("created", ""), "Size": humanize.size(size),
                         "VirtualSize": humanize.size(size), "Containers": "N/A",
                         "SharedSize": "N/A", "UniqueSize": "N/A"})
    return rows


def _label_matches(labels: dict, spec: str) -> bool:
    key, eq, value = spec.partition("=")
    return key in labels and (not eq or labels[key] == value)


def cmd_images(store: Store, args) -> int:
    rows = image_rows(store, args)
    if args.quiet:
        seen = []
        for row in rows:
            if row["ID"] not in seen:
                seen.append(row["ID"])
        for image_id in seen:
            print(image_id)
        return 0
    if args.format:
        output.formatted(args.format, rows, IMAGE_COLUMNS)
        return 0
    columns = ["Repository", "Tag"] + (["Digest"] if args.digests else []) + ["ID", "CreatedSince", "Size"]
    output.table([IMAGE_COLUMNS[c] for c in columns], [[r[c] for c in columns] for r in rows])
    return 0


# --- inspect -----------------------------------------------------------------------------------

def cmd_inspect(store: Store, args) -> int:
    from reference_impl.cli.containers import container_inspect

    found, failed = [], False
    for name in args.names:
        value = None
        if args.type in (None, "container"):
            try:
                value = container_inspect(store, store.containers.resolve(name))
            except NotFound:
                value = None
        if value is None and args.type in (None, "image"):
            try:
                value = images.inspect(store, store.images.get(store.images.resolve(name)))
            except (NotFound, InvalidInput):
                value = None
        if value is None:
            failed = True
            kind = {"image": "image", "container": "container"}.get(args.type or "", "object")
            print(f"Error: No such {kind}: {name}", file=sys.stderr)
            continue
        found.append(value)
    if args.format:
        from reference_impl import gotemplate
        template = gotemplate.parse(args.format)
        for value in found:
            sys.stdout.write(template.execute(value) + "\n")
    else:
        output.inspect_json(found)
    return 1 if failed else 0


# --- history -------------------------------------------------------------------------------------

def cmd_history(store: Store, args) -> int:
    image = store.images.get(store.images.resolve(args.image))
    rows = images.history(store, image)
    records = []
    for row in rows:
        created_by = row["CreatedBy"]
        shown = created_by if args.no_trunc or len(created_by) <= 45 else created_by[:44] + "…"
        records.append({
            "ID": row["ID"] if row["ID"] == "<missing>" else output.truncate_id(row["ID"], args.no_trunc),
            "CreatedSince": humanize.ago(row["CreatedAt"]) if args.human else row["CreatedAt"],
            "CreatedAt": row["CreatedAt"],
            "CreatedBy": shown,
            "Size": humanize.size(row["Size"]) if args.human else str(row["Size"]),
            "Comment": row["Comment"],
        })
    if args.quiet:
        for r in records:
            print(r["ID"])
    elif args.format:
        output.formatted(args.format, records, {"ID": "IMAGE", "CreatedSince": "CREATED",
                                                "CreatedBy": "CREATED BY", "Size": "SIZE",
                                                "Comment": "COMMENT", "CreatedAt": "CREATED AT"})
    else:
        output.table(["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"],
                     [[r["ID"], r["CreatedSince"], r["CreatedBy"], r["Size"], r["Comment"]] for r in records])
    return 0


# --- tag / rmi ----------------------------------------------------------------------------------------

def cmd_tag(store: Store, args) -> int:
    target = refs.parse_tagged(args.target)
    with store.lock():
        image_id = store.images.resolve(args.source)
        images.tag(store, image_id, target)
        store.images.set_meta(image_id, last_tag_time=humanize.now_rfc3339())
    return 0


def cmd_rmi(store: Store, args) -> int:
    failed = False
    deleter = Deleter(store, lambda kind, value: print(f"{kind}: {value}"))
    for name in args.images:
        try:
            with store.lock():
                deleter.remove(name, args.force, not args.no_prune)
                store.images.collect_layers(store.containers.layers_in_use())
        except NotFound as exc:
            failed = failed or not args.force  # -f: a missing image is reported, not an error
            print(str(exc), file=sys.stderr)
        except EngineError as exc:
            failed = True
            print(str(exc), file=sys.stderr)
    return 1 if failed else 0


def confirmed(args, warning: str) -> bool:
    if args.force:
        return True
    sys.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_image_prune(store: Store, args) -> int:
    warning = ("WARNING! This will remove all images without at least one container associated to them."
               if args.all else "WARNING! This will remove all dangling images.")
    if not confirmed(args, warning):
        return 0
    records: list[str] = []
    before = _layer_bytes(store)
    with store.lock():
        prune_images(store, args.all, lambda kind, value: records.append(f"{kind.lower()}: {value}"))
        store.images.collect_layers(store.containers.layers_in_use())
    if records:
        print("Deleted Images:")
        for line in records:
            print(line)
        print()
    print(f"Total reclaimed space: {humanize.size(max(0, before - _layer_bytes(store)))}")
    return 0


def _layer_bytes(store: Store) -> int:
    return sum(store.images.layer_size("sha256:" + d.name) for d in store.images.layers_dir.iterdir())


# --- save / load -------------------------------------------------------------------------------------

def cmd_save(store: Store, args) -> int:
    if args.output is None and sys.stdout.isatty():
        raise EngineError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    target = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        archive.save(store, args.images, target)
    finally:
        if args.output:
            target.close()
    return 0


def cmd_load(store: Store, args) -> int:
    source = open(args.input, "rb") if args.input else sys.stdin.buffer
    try:
        for line in archive.load(store, source):
            if not args.quiet:
                print(line)
    finally:
        if args.input:
            source.close()
    return 0
