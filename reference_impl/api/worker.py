"""`python -m reference_impl.api.worker OP SPEC-JSON`: one engine call that forks
long-lived processes (a container's shim, an exec, a build's RUN steps), run in a
fresh process so that nothing of the service — its threads, its sockets, its
client connections — is inherited by a shim.

The service hands over stdin/stdout/stderr (pipes to a hijacked connection, or
/dev/null) and a report fd for JSON lines:
    start   {"started": true}, then (attached) {"exit": code|null} | {"error", "status", "code"}
    exec    {"exit": code}                                       | {"error", "status", "code"}
    build   the classic builder's JSON messages ({"stream"}, {"aux"}, {"errorDetail"}),
            then {"done": image id} | {"error", "status", "code", "streamed"}
"""
from __future__ import annotations

import codecs
import json
import os
import select
import signal
import sys
import threading

from reference_impl.api.status import http_status
from reference_impl.ownership import staging_prefix


class Report:
    def __init__(self, fd: int):
        os.set_inheritable(fd, False)  # a container's process must not hold it (it execs)
        self.fd = fd
        self.lock = threading.Lock()

    def send(self, message: dict) -> None:
        data = (json.dumps(message) + "\n").encode()
        with self.lock:
            try:
                os.write(self.fd, data)
            except BrokenPipeError:
                pass

    def error(self, exc: BaseException, **extra) -> None:
        from reference_impl.errors import EngineError
        message = exc.message if isinstance(exc, EngineError) else (str(exc) or type(exc).__name__)
        self.send({"error": message, "status": http_status(exc), "code": getattr(exc, "exit_code", 1), **extra})


def op_start(spec: dict, report: Report) -> int:
    from reference_impl.engine.containers import ContainerService
    from reference_impl.store import Store
    service = ContainerService(Store(spec["root"]))
    if not spec.get("attach"):
        service.start(spec["id"])
        report.send({"started": True})
        return 0
    code = service.start(spec["id"], attach=True, stdin=bool(spec.get("stdin")),
                         on_started=lambda: report.send({"started": True}),
                         detach_keys=bytes.fromhex(spec.get("detach_keys", "")))
    report.send({"exit": code})  # None: the detach keys were read, the container runs on
    return 0


def op_exec(spec: dict, report: Report) -> int:
    from reference_impl.engine.containers import ContainerService
    from reference_impl.engine.records.containers import ExecOptions
    from reference_impl.store import Store
    code = ContainerService(Store(spec["root"])).exec(ExecOptions(
        container=spec["id"], argv=spec["argv"], env=spec.get("env") or [], workdir=spec.get("workdir"),
        user=spec.get("user"), tty=bool(spec.get("tty")), interactive=bool(spec.get("interactive")),
        resizes=spec.get("resizes_fd"), detach_keys=bytes.fromhex(spec.get("detach_keys", ""))))
    sys.stderr.flush()
    report.send({"detached": True} if code is None else {"exit": code})
    return 0


class _Relay:
    """A build's RUN output (fds 1 and 2, written by the step's shim) and the builder's own
    lines, merged in order into {"stream"} messages: everything is read under one lock, and
    a builder line first drains what the step wrote before it."""

    def __init__(self, report: Report):
        self.report = report
        self.read_fd, write_fd = os.pipe()
        os.set_blocking(self.read_fd, False)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(write_fd, 1)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self.lock = threading.Lock()
        self.quiet = False
        self.streamed = False
        threading.Thread(target=self._pump, daemon=True).start()

    def drain(self) -> None:
        while True:
            try:
                data = os.read(self.read_fd, 65536)
            except BlockingIOError:
                return
            if not data:
                return
            self._emit(self.decoder.decode(data))

    def _emit(self, text: str) -> None:
        if text:
            self.streamed = True
            if not self.quiet:
                self.report.send({"stream": text})

    def _pump(self) -> None:
        while True:
            select.select([self.read_fd], [], [], 0.5)
            with self.lock:
                self.drain()

    def line(self, text: str) -> None:
        with self.lock:
            self.drain()
            self._emit(text + "\n")

    def message(self, value: dict) -> None:
        with self.lock:
            self.drain()
            self.report.send(value)


def op_build(spec: dict, report: Report) -> int:
    import shutil
    import tempfile
    from pathlib import Path

    from reference_impl.builder import context
    from reference_impl.builder.build import Options, build
    from reference_impl.store import Store

    from reference_impl import runtime

    store = Store(spec["root"])
    relay = _Relay(report)
    relay.quiet = bool(spec.get("quiet"))
    created: list[str] = []  # the build's RUN containers: a cancelled build kills them
    create = runtime.create

    def tracked_create(*args, **kwargs):
        container = create(*args, **kwargs)
        created.append(container.id)
        return container
    runtime.create = tracked_create  # (this process runs one build and exits)
    scratch = Path(tempfile.mkdtemp(dir=store.images.tmp_dir, prefix=staging_prefix("api-ctx-")))

    def out(text: str) -> None:
        if text.startswith("Successfully built "):
            try:  # the image id before the line, as dockerd sends it
                image_id = store.images.resolve(text.split()[-1])
                relay.message({"aux": {"ID": image_id}})
            except Exception:  # noqa: BLE001 — the aux message is an extra
                pass
        relay.line(text)

    try:
        directory = scratch / "context"
        context.unpack_context(Path(spec["context_tar"]), directory)
        options = Options(context_dir=directory, dockerfile=spec.get("dockerfile") or "Dockerfile",
                          tags=spec.get("tags") or [], no_cache=bool(spec.get("nocache")),
                          build_args=spec.get("buildargs") or {}, labels=spec.get("labels") or {},
                          rm=spec.get("rm", True), force_rm=bool(spec.get("forcerm")),
                          quiet=False, target=spec.get("target"), pull=bool(spec.get("pull")),
                          announce_context=False)
        image_id = build(store, options, out=out)
        if relay.quiet:
            relay.quiet = False
            relay.message({"aux": {"ID": image_id}})
            relay.message({"stream": image_id + "\n"})
        with relay.lock:
            relay.drain()
        report.send({"done": image_id})
    except BaseException as exc:  # noqa: BLE001 — reported in the stream
        if isinstance(exc, KeyboardInterrupt):  # the client went away: stop the step that runs
            for cid in created:
                try:
                    runtime.remove(store, store.containers.get(cid), force=True)
                except Exception:  # noqa: BLE001 — removed already
                    pass
        with relay.lock:
            relay.drain()
        report.error(exc, streamed=relay.streamed)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


OPS = {"start": op_start, "exec": op_exec, "build": op_build}


def _terminate(signum, frame):
    # once: the service may signal twice (the client left, then its finally), and a
    # second interrupt inside the unwinding cut the scratch directory's removal short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt  # unwind: the builder removes its scratch directory


def main(argv: list[str]) -> int:
    op, spec = argv[0], json.loads(argv[1])
    signal.signal(signal.SIGTERM, _terminate)
    report = Report(int(spec["report_fd"]))
    try:
        return OPS[op](spec, report)
    except KeyboardInterrupt:
        return 130
    except BaseException as exc:  # noqa: BLE001 — the service turns it into a reply
        report.error(exc)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
