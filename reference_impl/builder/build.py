"""The classic builder: each instruction, top to bottom, makes a new image from the previous
one — metadata steps in their `#(nop)` form, RUN in a real container whose layer is
committed, COPY/ADD as a layer of the copied files — printing Docker's classic output."""
from __future__ import annotations

import copy
import json
import os
import posixpath
import secrets
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from reference_impl import changes, humanize, images, refs, runtime
from reference_impl.builder import cache, context, copying
from reference_impl.builder.parser import Instruction, parse
from reference_impl.builder.substitution import substitute
from reference_impl.errors import EngineError, NotFound
from reference_impl.store import Store, hex_of, staging

DEFAULT_SHELL = ["/bin/sh", "-c"]
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
METADATA = {"ENV", "LABEL", "EXPOSE", "CMD", "ENTRYPOINT", "USER", "VOLUME", "STOPSIGNAL",
            "MAINTAINER", "ONBUILD", "SHELL", "ARG", "HEALTHCHECK"}
SUBSTITUTED = {"ENV", "ADD", "COPY", "WORKDIR", "EXPOSE", "VOLUME", "USER", "LABEL", "STOPSIGNAL",
               "ARG", "FROM", "ONBUILD"}
BUILTIN_ARGS = {"HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
                "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"}


class BuildError(EngineError):
    """A failure during the steps: printed as the build stream prints it."""
    from_daemon = False


class RequestError(EngineError):
    """A failure before any step runs: the daemon refuses the build request."""


@dataclass
class Options:
    context_dir: Path
    dockerfile: str = "Dockerfile"
    tags: list[str] = field(default_factory=list)
    no_cache: bool = False
    build_args: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    rm: bool = True
    force_rm: bool = False
    quiet: bool = False
    target: str | None = None
    pull: bool = False  # ask the registry for every FROM image, even one the store has
    announce_context: bool = True


@dataclass
class Stage:
    image_id: str
    config: dict
    name: str | None
    declared_args: dict[str, str | None] = field(default_factory=dict)
    shell: list[str] = field(default_factory=lambda: list(DEFAULT_SHELL))
    cmd_set: bool = False
    maintainer: str = ""
    diff_ids: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)


def out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Builder:
    def __init__(self, store: Store, options: Options, workdir: Path, out=out):
        self.out = out  # each line of Docker's classic output (default: to stdout)
        self.store = store
        self.options = options
        self.workdir = workdir
        self.context = workdir / "context"
        self.stages: list[Stage] = []
        self.stage: Stage | None = None
        self.used_args: set[str] = set()
        self.global_args: dict[str, str | None] = {}
        self.lease = store.images.lease()  # the layers this build stands on stay, even if
        self.held: set[str] = set()        # a concurrent rmi or prune removes its images

    # --- the run ------------------------------------------------------------------------
    def run(self, instructions: list[Instruction]) -> str:
        first = next((i for i in instructions if i.keyword != "ARG"), None)
        if first is None or first.keyword != "FROM":
            raise RequestError("no build stage in current context")
        total = len(instructions)
        for number, instruction in enumerate(instructions, start=1):
            self.out(f"Step {number}/{total} : {instruction.original}")
            getattr(self, f"do_{instruction.keyword.lower()}", self.do_metadata)(instruction)
        unused = sorted(set(self.options.build_args) - self.used_args - BUILTIN_ARGS)
        if unused:
            self.out(f"[Warning] One or more build-args [{' '.join(unused)}] were not consumed")
        if self.stage is None:
            raise BuildError("No image was generated. Is your Dockerfile empty?")
        return self.stage.image_id

    # --- helpers ------------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        env = {}
        for name, value in self.stage.declared_args.items():
            if name in self.options.build_args:
                env[name] = self.options.build_args[name]
            elif value is not None:
                env[name] = value
        for item in self.stage.config.get("Env") or []:
            key, _, value = item.partition("=")
            env[key] = value
        return env

    def _args_in_effect(self) -> list[str]:
        pairs = []
        for name, default in self.stage.declared_args.items():
            value = self.options.build_args.get(name, default)
            if value is not None:
                pairs.append(f"{name}={value}")
        return pairs

    def _commit(self, step_config: dict, new_config: dict, *, layer: images.PendingLayer | None,
                created_by: str, container_id: str = "") -> str:
        created = humanize.now_rfc3339()
        diff_id = layer.diff_id if layer else None
        diff_ids = list(self.stage.diff_ids) + ([diff_id] if diff_id else [])
        history = list(self.stage.history) + [images.history_entry(
            created, created_by, empty_layer=diff_id is None)]
        image = images.new_config(new_config, diff_ids, history, created=created,
                                  container=container_id, container_config=step_config,
                                  author=self.stage.maintainer)
        with self.store.lock():  # in, and held by the lease, before a prune can see it unused
            if layer is not None:
                self.store.images.add_layer(layer.tar_path, layer.diff_id)
            image_id = self.store.images.put_image(image, parent=self.stage.image_id)
            self._advance(image_id)
        return image_id

    def _advance(self, image_id: str) -> None:
        """Make image_id the current step (the caller holds the store lock)."""
        image = self.store.images.get(image_id)
        self.held.update(image.diff_ids)
        self.lease.hold(sorted(self.held))
        self.stage.image_id = image_id
        self.stage.config = copy.deepcopy(image.config.get("config") or {})
        self.stage.diff_ids = list(image.diff_ids)
        self.stage.history = list(image.config.get("history") or [])
        self.stage.maintainer = image.config.get("author", "")

    def _cached(self, step_config: dict) -> bool:
        if self.options.no_cache or not self.stage.image_id:
            return False
        with self.store.lock():
            hit = cache.lookup(self.store, self.stage.image_id, step_config)
            if hit is None:
                return False
            self._advance(hit)
        self.out(" ---> Using cache")
        self.out(f" ---> {hex_of(hit)[:12]}")
        return True

    def _step_config(self, cmd: list[str]) -> dict:
        config = copy.deepcopy(self.stage.config)
        config["Cmd"] = cmd
        return config

    def _nop(self, comment: str) -> list[str]:
        return [*self.stage.shell, "#(nop) ", comment]

    # --- ARG before the first FROM ------------------------------------------------------
    def do_arg(self, ins: Instruction) -> None:
        if self.stage is not None:
            return self.do_metadata(ins)
        name, eq, default = substitute(ins.args, {}).partition("=")
        self.global_args[name] = self.options.build_args.get(name, default if eq else None)
        self.used_args.add(name)

    # --- FROM ---------------------------------------------------------------------------
    def do_from(self, ins: Instruction) -> None:
        words = substitute(ins.args, {k: v for k, v in self.global_args.items() if v is not None}).split()
        name = words[2].lower() if len(words) == 3 and words[1].upper() == "AS" else None
        if len(words) not in (1, 3) or (len(words) == 3 and name is None):
            raise BuildError(f"FROM requires either one or three arguments")
        source = words[0]
        previous = {s.name: s for s in self.stages if s.name}
        if source in previous:
            base = previous[source]
            self.stage = Stage(base.image_id, copy.deepcopy(base.config), name,
                               diff_ids=list(base.diff_ids), history=list(base.history))
        elif source == "scratch":
            self.stage = Stage("", {}, name)
        else:
            image_id = self._base_image(source)
            with self.store.lock():
                self.stage = Stage(image_id, {}, name)
                self._advance(image_id)
        env = self.stage.config.get("Env") or []
        if not any(e.startswith("PATH=") for e in env):  # as moby's initializeStage does
            self.stage.config["Env"] = [*env, f"PATH={DEFAULT_PATH}"]
        self.stages.append(self.stage)
        self.out(f" ---> {hex_of(self.stage.image_id)[:12]}" if self.stage.image_id else " ---> ")

    def _base_image(self, source: str) -> str:
        """FROM's image: the store's, pulled first (its progress in the build's output) when
        the store lacks it or --pull asks, as the classic builder pulls."""
        if not self.options.pull:
            try:
                with self.store.lock():
                    return self.store.images.resolve(source)
            except NotFound:
                pass
        ref = refs.parse_tagged(source)
        if ref.domain is None:  # Docker Hub's, out of reach here
            raise BuildError(f"pull access denied for {ref.name}, repository does not exist or may require "
                             "'docker login': denied: requested access to the resource is denied")
        from reference_impl import distribution
        try:
            return distribution.pull(self.store, str(ref), self.out)
        except EngineError as exc:  # in the build's stream, as dockerd reports a failed pull there
            raise BuildError(exc.message) from None

    # --- metadata steps -----------------------------------------------------------------
    def do_metadata(self, ins: Instruction) -> None:
        keyword = ins.keyword
        args = ins.args
        if keyword in SUBSTITUTED:
            args = substitute(args, self._env())
        new = copy.deepcopy(self.stage.config)
        if keyword == "MAINTAINER":
            self.stage.maintainer = args
            comment = f"MAINTAINER {args}"
        elif keyword == "ARG":
            name, eq, default = args.partition("=")
            self.stage.declared_args[name] = default if eq else None
            self.used_args.add(name)
            comment = f"ARG {args}"
        elif keyword in ("CMD", "ENTRYPOINT"):
            value = ins.json_array()
            value = value if value is not None else [*self.stage.shell, args]
            if keyword == "CMD":
                new["Cmd"] = value
                self.stage.cmd_set = True
            else:
                new["Entrypoint"] = value
                if not self.stage.cmd_set:
                    new["Cmd"] = None  # an ENTRYPOINT drops the CMD inherited from the base
            comment = f"{keyword} [{' '.join(json.dumps(v) for v in value)}]"
        elif keyword == "SHELL":
            value = ins.json_array()
            if value is None:
                raise BuildError("SHELL requires the arguments to be in JSON form")
            self.stage.shell = value
            new["Shell"] = value
            comment = f"SHELL [{' '.join(json.dumps(v) for v in value)}]"
        elif keyword == "ENV":
            pairs = changes.key_values(args, "ENV")
            for key, value in pairs:
                changes.set_env(new, key, value)
            comment = "ENV " + " ".join(f"{k}={v}" for k, v in pairs)
        elif keyword == "LABEL":
            pairs = changes.key_values(args, "LABEL")
            labels = dict(new.get("Labels") or {})
            labels.update(pairs)
            new["Labels"] = labels
            comment = "LABEL " + " ".join(f"{k}={v}" for k, v in pairs)
        elif keyword == "EXPOSE":
            ports = dict(new.get("ExposedPorts") or {})
            for port in args.split():
                ports[port if "/" in port else f"{port}/tcp"] = {}
            new["ExposedPorts"] = ports
            comment = f"EXPOSE {args}"
        elif keyword == "VOLUME":
            changes.apply(new, f"VOLUME {args}")
            comment = f"VOLUME [{' '.join(changes.volume_paths(args))}]"  # Go's %v of the paths
        else:
            flags = "".join(f"--{name}={value} " for name, value in ins.flags.items())  # HEALTHCHECK's
            changes.apply(new, f"{keyword} {flags}{args}")
            comment = f"{keyword} {flags}{args}"
        step = copy.deepcopy(new)
        step["Cmd"] = self._nop(comment)
        if self._cached(step):
            return
        container_id = secrets.token_hex(32)
        self.out(f" ---> Running in {container_id[:12]}")
        self.out(f"Removing intermediate container {container_id[:12]}")
        image_id = self._commit(step, new, layer=None, created_by=" ".join(step["Cmd"]),
                                container_id=container_id)
        self.out(f" ---> {hex_of(image_id)[:12]}")

    # --- RUN ----------------------------------------------------------------------------
    def do_run(self, ins: Instruction) -> None:
        exec_form = ins.json_array()
        cmd = exec_form if exec_form is not None else [*self.stage.shell, ins.args]
        build_args = self._args_in_effect()
        key_cmd = ([f"|{len(build_args)}", *build_args] if build_args else []) + cmd
        step = self._step_config(key_cmd)
        if self._cached(step):
            return
        env = [f"{a}" for a in build_args]
        container = runtime.create(
            self.store, self.stage.image_id, name=None, cmd=cmd, entrypoint=[], env=env,
            workdir=None, user=None, tty=False, stdin_open=False, auto_remove=False, labels={},
            starting=True, intermediate=True)
        try:
            self.out(f" ---> Running in {container.short_id}")
            code = runtime.start(self.store, container, attach=True)
            if code:
                if self.options.force_rm:
                    runtime.remove(self.store, self.store.containers.get(container.id), force=True)
                error = BuildError(f"The command '{' '.join(cmd)}' returned a non-zero code: {code}")
                error.exit_code = code
                raise error
            container = self.store.containers.get(container.id)
            _discard_volume_paths(container.upper, self.stage.config.get("Volumes") or {})
            layer = self._layer_from(container.upper)
            new = copy.deepcopy(self.stage.config)
            image_id = self._commit(step, new, layer=layer, created_by=" ".join(key_cmd),
                                    container_id=container.id)
            if self.options.rm:
                self.out(f"Removing intermediate container {container.short_id}")
                runtime.remove(self.store, container, force=True)
        finally:  # from here on, a failed step's container is kept on purpose, as Docker keeps it
            staging.settle_intermediate(self.store.root, container.id)
        self.out(f" ---> {hex_of(image_id)[:12]}")

    def _layer_from(self, directory: Path) -> images.PendingLayer | None:
        return images.layer_from_directory(directory, self.workdir)

    # --- WORKDIR ------------------------------------------------------------------------
    def do_workdir(self, ins: Instruction) -> None:
        path = substitute(ins.args, self._env())
        if not path.startswith("/"):
            path = os.path.join(self.stage.config.get("WorkingDir") or "/", path)
        new = copy.deepcopy(self.stage.config)
        new["WorkingDir"] = path
        step = copy.deepcopy(new)
        step["Cmd"] = self._nop(f"WORKDIR {path}")
        if self._cached(step):
            return
        container_id = secrets.token_hex(32)
        self.out(f" ---> Running in {container_id[:12]}")
        staging = self.workdir / f"workdir-{container_id[:12]}"
        staging.mkdir()
        copying.make_dirs_in_layer(self.store, self.stage.diff_ids, staging, path)
        layer = self._layer_from(staging)
        self.out(f"Removing intermediate container {container_id[:12]}")
        image_id = self._commit(step, new, layer=layer, created_by=" ".join(step["Cmd"]),
                                container_id=container_id)
        self.out(f" ---> {hex_of(image_id)[:12]}")

    # --- COPY / ADD ---------------------------------------------------------------------
    def do_copy(self, ins: Instruction) -> None:
        self._copy(ins, add=False)

    def do_add(self, ins: Instruction) -> None:
        self._copy(ins, add=True)

    def _copy(self, ins: Instruction, add: bool) -> None:
        words = ins.json_array()
        if words is None:
            words = substitute(ins.args, self._env()).split()
        else:
            words = [substitute(w, self._env()) for w in words]
        if len(words) < 2:
            raise BuildError(f"{ins.keyword} requires at least two arguments, but only one was provided. "
                             "Destination could not be determined.")
        *sources, dest = words
        source_root = self._copy_source_root(ins.flags.get("from"))
        plan = copying.plan(source_root, sources, dest, self.stage.config.get("WorkingDir") or "/",
                            add=add, keyword=ins.keyword)
        step = self._step_config(self._nop(f"{ins.keyword} {plan.digest} in {plan.dest} "))
        if self._cached(step):
            return
        staging = self.workdir / f"copy-{secrets.token_hex(4)}"
        staging.mkdir()
        copying.apply(self.store, self.stage.diff_ids, plan, staging, ins.flags.get("chown"))
        layer = self._layer_from(staging)
        image_id = self._commit(step, copy.deepcopy(self.stage.config), layer=layer,
                                created_by=" ".join(step["Cmd"]))
        self.out(f" ---> {hex_of(image_id)[:12]}")

    def _copy_source_root(self, source: str | None) -> Path:
        if not source:
            return self.context
        stages = {s.name: s for s in self.stages if s.name}
        if source.isdigit() and int(source) < len(self.stages):
            stage = self.stages[int(source)]
        elif source in stages:
            stage = stages[source]
        else:
            try:
                image_id = self.store.images.resolve(source)
            except NotFound:
                raise BuildError(f"invalid from flag value {source}: pull access denied") from None
            stage = Stage(image_id, {}, None, diff_ids=self.store.images.get(image_id).diff_ids)
        return copying.flatten(self.store, stage.diff_ids, self.workdir / f"from-{secrets.token_hex(4)}")


def _discard_volume_paths(upper: Path, volumes: dict) -> None:
    """The classic builder runs a RUN step with the image's VOLUMEs as anonymous volumes, which
    go with its container: what the step changed under a VOLUME path is not in the layer."""
    for path in volumes:
        changed = upper / posixpath.normpath("/" + path).lstrip("/")
        if changed == upper:
            continue
        if changed.is_dir() and not changed.is_symlink():
            shutil.rmtree(changed)
        elif os.path.lexists(changed):  # a file, a link or a whiteout in place of the directory
            os.unlink(changed)


def build(store: Store, options: Options, out=out) -> str:
    """Run a build; returns the final image id (tags applied). `out(line)` gets each line of
    Docker's classic output (default: stdout; the API turns them into {"stream"} messages)."""
    workdir = context.new_workdir(store.images.tmp_dir)
    try:
        source_dir = options.context_dir
        dockerfile_path = Path(options.dockerfile)
        if not dockerfile_path.is_absolute():
            dockerfile_path = source_dir / options.dockerfile
        try:
            text = dockerfile_path.read_text()
        except FileNotFoundError:
            raise RequestError(f"Cannot locate specified Dockerfile: {options.dockerfile}") from None
        rel = os.path.relpath(dockerfile_path, source_dir)
        size = context.context_tar(source_dir, workdir / "context.tar", rel)
        if options.announce_context:  # (over the API the client announces what it sends)
            out(f"Sending build context to Docker daemon  {_context_size(size)}")
        instructions = parse(text)
        if options.labels:
            extra = " ".join(f"{json.dumps(k)}={json.dumps(v)}" for k, v in sorted(options.labels.items()))
            instructions.append(parse(f"LABEL {extra}")[0])
        context.unpack_context(workdir / "context.tar", workdir / "context")
        context.drop_build_files(workdir / "context", rel)
        builder = Builder(store, options, workdir, out)
        try:
            image_id = builder.run(instructions)
        finally:
            builder.lease.release()
        out(f"Successfully built {hex_of(image_id)[:12]}")
        with store.lock():
            for tag in options.tags:
                ref = refs.parse_tagged(tag)
                images.tag(store, image_id, ref)
        for tag in options.tags:
            out(f"Successfully tagged {refs.parse_tagged(tag)}")
        return image_id
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _context_size(n: int) -> str:
    units = ["B", "kB", "MB", "GB"]
    value, i = float(n), 0
    while value >= 1000 and i < len(units) - 1:
        value /= 1000
        i += 1
    return f"{value:.4g}{units[i]}"

