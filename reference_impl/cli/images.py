"""Image verbs: import, images, inspect, history, tag, rmi, save, load."""
from __future__ import annotations

import os
import sys

from reference_impl import humanize
from reference_impl.cli import output
from reference_impl.cli.errors import words
from reference_impl.cli.filters import parse_filters
from reference_impl.engine.containers import ContainerService
from reference_impl.engine.images import ImageService
from reference_impl.engine.records.images import ImageListOptions, ImagePruneOptions, ImportOptions
from reference_impl.errors import EngineError, InvalidInput, NotFound
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
    if not management:  # `image inspect` has no sizes to add
        p.add_argument("-s", "--size", action="store_true")
    p.add_argument("names", nargs="+")
    p.set_defaults(handler=cmd_inspect, size=False)

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
    options = ImportOptions(reference=args.reference, changes=args.change, message=args.message)
    if args.file == "-":
        image_id = ImageService(store).import_(sys.stdin.buffer, options)
    else:
        try:
            with open(args.file, "rb") as f:
                image_id = ImageService(store).import_(f, options)
        except FileNotFoundError:
            raise EngineError(f"open {args.file}: no such file or directory") from None
    print(image_id)
    return 0


# --- images --------------------------------------------------------------------------------

IMAGE_COLUMNS = {"Repository": "REPOSITORY", "Tag": "TAG", "Digest": "DIGEST", "ID": "IMAGE ID",
                 "CreatedSince": "CREATED", "Size": "SIZE", "CreatedAt": "CREATED AT"}


def image_rows(store: Store, show_all: bool, filters: dict[str, list[str]], no_trunc: bool) -> list[dict]:
    """One row per repository:tag (one <none> row for an untagged image), as the docker CLI prints."""
    rows = []
    for image in ImageService(store).list(ImageListOptions(all=show_all, filters=filters)):
        pairs = [tuple(t.rsplit(":", 1)) for t in image.repo_tags] or [("<none>", "<none>")]
        for repo, tag in pairs:
            digest = next((d.split("@", 1)[1] for d in image.repo_digests if d.split("@", 1)[0] == repo),
                          "<none>")
            size = humanize.size(image.size)
            rows.append({"Repository": repo, "Tag": tag, "Digest": digest,
                         "ID": output.truncate_id(image.id, no_trunc),
                         "CreatedSince": humanize.ago(image.created_at), "CreatedAt": image.created_at,
                         "Size": size, "VirtualSize": size, "Containers": "N/A",
                         "SharedSize": "N/A", "UniqueSize": "N/A"})
    return rows


def cmd_images(store: Store, args) -> int:
    filters = parse_filters(args.filter)
    if args.repository:  # the docker CLI sends REPOSITORY[:TAG] as a reference filter
        filters.setdefault("reference", []).append(args.repository)
    rows = image_rows(store, args.all, filters, args.no_trunc)
    if args.quiet:
        for image_id in dict.fromkeys(row["ID"] for row in rows):
            print(image_id)
        return 0
    if args.format:
        output.formatted(args.format, rows, IMAGE_COLUMNS, go_type="*formatter.imageContext")
        return 0
    columns = ["Repository", "Tag"] + (["Digest"] if args.digests else []) + ["ID", "CreatedSince", "Size"]
    output.table([IMAGE_COLUMNS[c] for c in columns], [[r[c] for c in columns] for r in rows])
    return 0


# --- inspect -----------------------------------------------------------------------------------

def cmd_inspect(store: Store, args) -> int:
    return inspect_objects(store, args.names, args.type, args.format, args.size)


def inspect_objects(store: Store, names: list[str], kind: str | None, fmt: str | None, size: bool = False) -> int:
    """`inspect`: containers first (with their sizes under -s), then images (or only the
    kind asked for)."""
    found, failed = [], False
    for name in names:
        value = None
        if kind in (None, "container"):
            try:
                value = ContainerService(store).inspect(name, size=size)
            except NotFound:
                value = None
        if value is None and kind in (None, "image"):
            try:
                value = ImageService(store).inspect(name)
            except (NotFound, InvalidInput):
                value = None
        if value is None:
            failed = True
            print(f"Error: No such {kind or 'object'}: {name}", file=sys.stderr)
            continue
        found.append(value)
    if fmt:
        from reference_impl import gotemplate
        template = gotemplate.parse(fmt)
        for value in found:
            sys.stdout.write(template.execute(value) + "\n")
    else:
        output.inspect_json(found)
    return 1 if failed else 0


# --- history -------------------------------------------------------------------------------------

def cmd_history(store: Store, args) -> int:
    records = []
    for item in ImageService(store).history(args.image):
        created_by = item.created_by
        shown = created_by if args.no_trunc or len(created_by) <= 45 else created_by[:44] + "…"
        records.append({
            "ID": item.id if item.id == "<missing>" else output.truncate_id(item.id, args.no_trunc),
            "CreatedSince": humanize.ago(item.created_at) if args.human else item.created_at,
            "CreatedAt": item.created_at,
            "CreatedBy": shown,
            "Size": humanize.size(item.size) if args.human else str(item.size),
            "Comment": item.comment,
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
    ImageService(store).tag(args.source, args.target)
    return 0


def cmd_rmi(store: Store, args) -> int:
    failed = False
    for name in args.images:
        try:
            for item in ImageService(store).remove(name, args.force, not args.no_prune):
                print(f"{item.kind}: {item.value}")
        except NotFound as exc:
            failed = failed or not args.force  # -f: a missing image is reported, not an error
            print(words(exc), file=sys.stderr)
        except EngineError as exc:
            failed = True
            print(words(exc), file=sys.stderr)
    return 1 if failed else 0


def confirmed(force: bool, warning: str) -> bool:
    if force:
        return True
    sys.stdout.write(f"{warning}\nAre you sure you want to continue? [y/N] ")
    sys.stdout.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


def cmd_image_prune(store: Store, args) -> int:
    options = ImagePruneOptions(all=args.all, filters=parse_filters(args.filter))
    warning = ("WARNING! This will remove all images without at least one container associated to them."
               if args.all else "WARNING! This will remove all dangling images.")
    if not confirmed(args.force, warning):
        return 0
    report = ImageService(store).prune(options)
    output.prune_report("Images", [f"{item.kind.lower()}: {item.value}" for item in report.deleted],
                        report.space_reclaimed)
    return 0


# --- save / load -------------------------------------------------------------------------------------

def cmd_save(store: Store, args) -> int:
    if args.output is None and sys.stdout.isatty():
        raise EngineError("cowardly refusing to save to a terminal. Use the -o flag or redirect")
    if args.output and not os.path.isdir(os.path.dirname(os.path.abspath(args.output))):
        directory = os.path.dirname(os.path.abspath(args.output))  # the docker CLI checks it first
        raise InvalidInput(f"failed to save image: invalid output path: stat {directory}: no such file or directory")
    target = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        ImageService(store).save(args.images, target)
    finally:
        if args.output:
            target.close()
    return 0


def cmd_load(store: Store, args) -> int:
    try:
        source = open(args.input, "rb") if args.input else sys.stdin.buffer
    except OSError as exc:  # the docker CLI opens the file itself
        raise InvalidInput(f"open {args.input}: {(exc.strerror or str(exc)).lower()}") from None
    try:
        for line in ImageService(store).load(source):
            if not args.quiet:
                print(line)
    finally:
        if args.input:
            source.close()
    return 0
