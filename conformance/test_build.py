"""The Dockerfile builder (seed §6), as Docker's classic builder does it: one step per
instruction, each run in an intermediate container and committed as an image; a
failed step stops the build and leaves the last good image; the context is a
directory (minus `.dockerignore`), a tar on stdin, or a git repository.
"""
import functools
import http.server
import io
import json
import os
import signal
import socket
import subprocess
import tarfile
import threading
import time

import pytest

from conformance import buildsteps, ids, remote
from conformance.buildsteps import build, seed_dockerfile
from conformance.ids import short
from conformance.messages import expect_message
from conformance.naming import LABEL_CHECK, LABEL_RUN


# --- the seed's Dockerfile ----------------------------------------------------------------

def test_build_prints_a_numbered_step_for_each_instruction(cli, base, names, context, messages):
    result, log = build(cli, messages, context({"Dockerfile": seed_dockerfile(base.ref)}),
                        tag=f"{names('web')}:v1")
    expected = seed_dockerfile(base.ref).splitlines()  # each step echoes its line
    assert [(s.number, s.total, s.instruction) for s in log.steps] == [
        (n, 5, instruction) for n, instruction in enumerate(expected, start=1)]
    assert ids.same(log.step(1).image, base.id)
    for n, instruction in enumerate(expected, start=1):
        expect_message(result.stdout, messages, "build.step", n=n, total=5, instruction=instruction)
    expect_message(result.stdout, messages, "build.sending_context")


def test_build_runs_each_step_in_an_intermediate_container_and_removes_it(
        cli, base, names, context, messages):
    _, log = build(cli, messages, context({"Dockerfile": seed_dockerfile(base.ref)}),
                        tag=f"{names('web')}:v1")
    assert log.step(1).container is None  # FROM runs nothing
    containers = [s.container for s in log.steps[1:]]
    assert all(containers) and len(set(containers)) == 4, containers
    for step in log.steps[1:]:
        expect_message("\n".join(step.lines), messages, "build.removed_container", id=step.container)
        assert not cli.exists("container", step.container)
    images = log.images()
    assert all(images) and len(set(images)) == 5, images


def test_successfully_built_names_the_tagged_image(cli, base, names, context, messages):
    tag = f"{names('web')}:v1"
    result, log = build(cli, messages, context({"Dockerfile": seed_dockerfile(base.ref)}), tag=tag)
    image = cli.image_id(tag)
    assert log.image == image and ids.same(log.step(5).image, image)
    # every step's image is the next one's parent
    parents = [cli.inspect(s.image, "{{.Parent}}") for s in log.steps[1:]]
    assert ids.same_each(parents, log.images()[:-1])
    assert log.tagged == [cli.listed_name(tag)]
    expect_message(result.stdout, messages, "build.tagged", ref=cli.listed_name(tag))
    expect_message(result.stdout, messages, "build.built", id=short(image))
    assert log.built == short(image)


def test_seed_image_serves_its_index_file_and_exposes_port_80(cli, base, names, context):
    tag = f"{names('web')}:v1"
    cli.build_ok(context({"Dockerfile": seed_dockerfile(base.ref)}), tag=tag)
    assert cli.ok("run", "--rm", tag, "cat", "/www/index.html").stdout == "Hi, I am in your container\n"
    assert cli.inspect(tag, "{{json .Config.ExposedPorts}}") == '{"80/tcp":{}}'
    assert cli.inspect(tag, "{{index .Config.Env 1}}") == "REFRESHED_AT=2016-11-09"
    assert cli.inspect(tag, "{{.Author}}") == 'James Turnbull "james@example.com"'


def test_build_with_several_tags_tags_one_image(cli, base, names, context, messages):
    tags = [f"{names('web')}:v1", f"{names('web')}:latest", f"{names('other')}:v9"]
    result, log = build(cli, messages, context({"Dockerfile": seed_dockerfile(base.ref)}),
                        "-t", tags[1], "-t", tags[2], tag=tags[0])
    assert {cli.image_id(t) for t in tags} == {log.image}
    assert sorted(log.tagged) == sorted(cli.listed_name(t) for t in tags)
    for t in tags:
        expect_message(result.stdout, messages, "build.tagged", ref=cli.listed_name(t))


def test_build_with_file_flag_uses_that_dockerfile(cli, base, names, context):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nRUN echo default > /which\n",
                   "other.Dockerfile": f"FROM {base.ref}\nRUN echo other > /which\n"})
    tag = f"{names('web')}:v1"
    # -f is a path as the client sees it (not relative to the context)
    cli.build_ok(ctx, "-f", str(ctx / "other.Dockerfile"), tag=tag)
    assert cli.ok("run", "--rm", tag, "cat", "/which").stdout == "other\n"


# --- a failing step ----------------------------------------------------------------------

FAILING = "FROM {base}\nRUN echo good > /good\nRUN echo about to fail; exit 3\nRUN echo never > /never\n"


def test_failed_run_stops_the_build_with_its_exit_code(cli, base, names, context, messages):
    tag = f"{names('web')}:v1"
    result = cli.build(context({"Dockerfile": FAILING.format(base=base.ref)}), tag=tag)
    assert result.rc == 3, result.describe()
    log = buildsteps.parse(result.stdout, messages)
    assert [s.number for s in log.steps] == [1, 2, 3]  # step 4 never started
    assert log.step(3).image is None and result.image is None
    assert "about to fail" in log.step(3).lines
    assert not cli.exists("image", tag)
    expect_message(result.stderr, messages, "build.run_failed", command="echo about to fail; exit 3", code=3)


def test_last_good_step_image_of_a_failed_build_runs(cli, base, context, messages):
    result = cli.build(context({"Dockerfile": FAILING.format(base=base.ref)}))
    assert result.rc != 0, result.describe()
    good = buildsteps.parse(result.stdout, messages).step(2).image
    assert cli.ok("run", "--rm", good, "cat", "/good").stdout == "good\n"
    assert cli.run("run", "--rm", good, "cat", "/never").rc != 0


def test_failed_step_container_is_left_behind_stopped(cli, base, names, context, messages):
    result = cli.build(context({"Dockerfile": FAILING.format(base=base.ref)}))
    assert result.rc != 0, result.describe()
    log = buildsteps.parse(result.stdout, messages)
    failed = log.step(3).container
    assert failed is not None
    assert cli.inspect(failed, "{{.State.Status}} {{.State.ExitCode}}") == "exited 3"
    assert short(cli.inspect(failed, "{{.Image}}")) == log.step(2).image
    # it carries the base image's labels, so label filters (and cleanup) find it
    mine = cli.ok("ps", "-a", "-q", "--filter", f"label={LABEL_CHECK}={names.prefix}").lines
    assert mine == [failed[:12]]
    # the containers of the steps that succeeded are gone
    assert not cli.exists("container", log.step(2).container)


def test_failed_exec_form_run_names_its_arguments(cli, base, context, messages):
    result = cli.build(context({"Dockerfile": f'FROM {base.ref}\nRUN ["/bin/sh", "-c", "exit 4"]\n'}))
    assert result.rc == 4, result.describe()
    # exec form: the words joined by spaces, no shell prefix added
    expect_message(result.stderr, messages, "build.run_failed_exec", argv="/bin/sh -c exit 4", code=4)


# --- Dockerfiles that do not parse, contexts without a Dockerfile -----------------------

def test_dockerfile_must_start_with_from(cli, base, context, messages):
    result = cli.build(context({"Dockerfile": f"RUN echo hi\nFROM {base.ref}\n"}))
    assert result.rc != 0
    assert buildsteps.parse(result.stdout, messages).steps == []
    expect_message(result.stderr, messages, "build.no_build_stage")


def test_unknown_instruction_fails_naming_it(cli, base, context, messages):
    result = cli.build(context({"Dockerfile": f"FROM {base.ref}\nRUN echo hi\nFROBNICATE now\n"}))
    assert result.rc != 0
    assert buildsteps.parse(result.stdout, messages).steps == []  # parsed before any step runs
    expect_message(result.stderr, messages, "build.parse_error_unknown", line=3, instruction="FROBNICATE")


def test_context_directory_without_dockerfile_fails(cli, base, names, context, messages):
    ctx = context({"index.html": "hi\n"})
    tag = f"{names('web')}:v1"
    result = cli.build(ctx, tag=tag)
    assert result.rc != 0
    assert not cli.exists("image", tag)
    expect_message(result.stderr, messages, "build.dockerfile_not_in_directory", path=ctx / "Dockerfile")


def test_tar_context_on_stdin_without_dockerfile_fails(cli, base, tmp_path, messages):
    archive = tmp_path / "ctx.tar"
    with tarfile.open(archive, "w") as tar:
        data = b"hi\n"
        info = tarfile.TarInfo("index.html")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = cli.build("-", stdin_file=archive)
    assert result.rc != 0
    expect_message(result.stderr, messages, "build.stdin_no_dockerfile", name="Dockerfile")


def test_tar_context_on_stdin_builds(cli, base, names, tmp_path):
    archive = tmp_path / "ctx.tar"
    files = {"Dockerfile": f"FROM {base.ref}\nCOPY index.html /www/\n".encode(), "index.html": b"from tar\n"}
    with tarfile.open(archive, "w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tag = f"{names('web')}:v1"
    result = cli.build("-", tag=tag, stdin_file=archive)
    assert result.rc == 0, result.describe()
    assert cli.ok("run", "--rm", tag, "cat", "/www/index.html").stdout == "from tar\n"


# --- instructions --------------------------------------------------------------------------

def test_run_exec_form_runs_the_program_without_a_shell(cli, base, context, messages):
    dockerfile = (f"FROM {base.ref}\n"
                  'RUN ["/bin/sh", "-c", "echo exec-form > /made-by"]\n'
                  'RUN ["echo", "$HOME", "stays", "literal"]\n')
    _, log = build(cli, messages, context({"Dockerfile": dockerfile}))
    assert "$HOME stays literal" in log.step(3).lines
    assert cli.ok("run", "--rm", log.image, "cat", "/made-by").stdout == "exec-form\n"


def test_env_is_set_for_later_run_steps_and_in_the_config(cli, base, context, messages):
    dockerfile = f"FROM {base.ref}\nENV GREETING=bonjour\nRUN echo $GREETING > /greeting\n"
    _, log = build(cli, messages, context({"Dockerfile": dockerfile}))
    assert cli.ok("run", "--rm", log.image, "cat", "/greeting").stdout == "bonjour\n"
    assert "GREETING=bonjour" in cli.inspect(log.image, "{{json .Config.Env}}")
    assert cli.ok("run", "--rm", log.image, "sh", "-c", "echo $GREETING").stdout == "bonjour\n"


def test_build_arg_overrides_the_arg_default_and_is_not_kept(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nARG FLAVOUR=plain\nRUN echo $FLAVOUR > /flavour\n"})
    _, default = build(cli, messages, ctx)
    _, given = build(cli, messages, ctx, "--build-arg", "FLAVOUR=mint")
    assert cli.ok("run", "--rm", default.image, "cat", "/flavour").stdout == "plain\n"
    assert cli.ok("run", "--rm", given.image, "cat", "/flavour").stdout == "mint\n"
    assert "FLAVOUR" not in cli.inspect(given.image, "{{json .Config.Env}}")


def test_unused_build_arg_is_reported(cli, base, context, messages):
    result, log = build(cli, messages, context({"Dockerfile": f"FROM {base.ref}\nRUN true\n"}),
                        "--build-arg", "NOBODY_USES=1")
    assert log.image is not None
    expect_message(result.stdout, messages, "build.unused_build_args", names="NOBODY_USES")


def test_workdir_user_cmd_and_entrypoint_are_recorded_in_the_config(cli, base, context, messages):
    dockerfile = (f"FROM {base.ref}\nWORKDIR /srv/app\nUSER nobody\n"
                  'ENTRYPOINT ["/bin/echo", "said:"]\nCMD ["from", "cmd"]\n')
    _, log = build(cli, messages, context({"Dockerfile": dockerfile}))
    config = "{{.Config.WorkingDir}}|{{.Config.User}}|{{json .Config.Entrypoint}}|{{json .Config.Cmd}}"
    assert cli.inspect(log.image, config) == '/srv/app|nobody|["/bin/echo","said:"]|["from","cmd"]'
    assert cli.ok("run", "--rm", log.image).stdout == "said: from cmd\n"
    assert cli.ok("run", "--rm", "--entrypoint", "", log.image, "pwd").stdout == "/srv/app\n"
    assert cli.ok("run", "--rm", "--entrypoint", "", log.image, "id", "-u").stdout == "65534\n"


def test_label_is_recorded_beside_the_inherited_labels(cli, base, names, context, messages):
    dockerfile = f'FROM {base.ref}\nLABEL com.example.tier="web" version=1\n'
    _, log = build(cli, messages, context({"Dockerfile": dockerfile}))
    labels = cli.inspect(log.image, "{{json .Config.Labels}}")
    assert json.loads(labels) == {"com.example.tier": "web", "version": "1",
                                  LABEL_CHECK: names.prefix, LABEL_RUN: names.run}


# --- the context ---------------------------------------------------------------------------

def _tar_bytes(files: dict[str, bytes], mode: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def test_add_extracts_a_local_tar_archive_and_copy_does_not(cli, base, context, messages):
    files = {"site/index.html": b"from tar\n", "site/css/main.css": b"body{}\n"}
    ctx = context({"Dockerfile": (f"FROM {base.ref}\nADD site.tar /srv/\nADD site.tar.gz /gz/\n"
                                  "COPY site.tar /copied/\n"),
                   "site.tar": _tar_bytes(files, "w"),
                   "site.tar.gz": _tar_bytes(files, "w:gz")})
    _, log = build(cli, messages, ctx)
    listing = cli.ok("run", "--rm", log.image, "find", "/srv", "/gz", "/copied", "-type", "f").lines
    assert sorted(listing) == ["/copied/site.tar", "/gz/site/css/main.css", "/gz/site/index.html",
                               "/srv/site/css/main.css", "/srv/site/index.html"]
    assert cli.ok("run", "--rm", log.image, "cat", "/srv/site/index.html").stdout == "from tar\n"


def test_dockerignore_with_double_star_and_exceptions(cli, base, context, messages):
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY . /ctx\n",
                   ".dockerignore": "secret.txt\n**/*.log\n!keep/a.log\n",
                   "secret.txt": "s\n", "main.txt": "m\n", "top.log": "t\n",
                   "keep/a.log": "a\n", "keep/deep/b.log": "b\n", "logs/c.log": "c\n"})
    _, log = build(cli, messages, ctx)
    found = cli.ok("run", "--rm", log.image, "find", "/ctx", "-type", "f").lines
    assert sorted(found) == ["/ctx/.dockerignore", "/ctx/Dockerfile", "/ctx/keep/a.log", "/ctx/main.txt"]
    # directories emptied by the patterns are still sent
    dirs = cli.ok("run", "--rm", log.image, "find", "/ctx", "-type", "d").lines
    assert sorted(dirs) == ["/ctx", "/ctx/keep", "/ctx/keep/deep", "/ctx/logs"]


def test_dockerignore_listing_the_dockerfile_keeps_both_out_of_the_copy(cli, base, names, context):
    """The Dockerfile and .dockerignore are still read when .dockerignore lists them, but
    the daemon takes them out of the context: `COPY .` copies neither."""
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY . /ctx\n",
                   ".dockerignore": "Dockerfile\n.dockerignore\n", "main.txt": "m\n"})
    tag = f"{names('ignored')}:v1"
    cli.build_ok(ctx, tag=tag)
    assert cli.ok("run", "--rm", tag, "find", "/ctx", "-type", "f").lines == ["/ctx/main.txt"]


def test_copy_of_a_symlink_follows_it_inside_the_context_only(cli, base, names, context, messages):
    """A COPY source that is a symlink is followed, scoped to the context (an absolute
    target means the context's own root): to a file in the context it copies that file;
    to /etc/shadow of the host it finds nothing and fails. Links inside a copied
    directory stay links."""
    ctx = context({"Dockerfile": f"FROM {base.ref}\nCOPY rel /rel\nCOPY abs /abs\nCOPY d /d\n",
                   "inside.txt": "inside\n", "d/.keep": ""})
    os.symlink("inside.txt", ctx / "rel")
    os.symlink("/inside.txt", ctx / "abs")
    os.symlink("../inside.txt", ctx / "d" / "up")
    tag = f"{names('links')}:v1"
    cli.build_ok(ctx, tag=tag)
    shown = cli.ok("run", "--rm", tag, "sh", "-c", "cat /rel /abs; readlink /d/up; "
                   "test -L /rel || echo rel-is-a-file; test -L /abs || echo abs-is-a-file").lines
    assert shown == ["inside", "inside", "../inside.txt", "rel-is-a-file", "abs-is-a-file"]

    escape = context({"Dockerfile": f"FROM {base.ref}\nCOPY link /copied\n"})
    os.symlink("/etc/shadow", escape / "link")
    failed = cli.build(escape)
    assert failed.rc == 1, failed
    expect_message(failed.stderr, messages, "build.copy_source_missing", source="link")



# --- git ------------------------------------------------------------------------------------

def _git(*args, cwd):
    subprocess.run(["git", "-c", "user.name=strata", "-c", "user.email=strata@example.invalid",
                    "-c", "init.defaultBranch=master", *args],
                   cwd=cwd, check=True, capture_output=True, text=True)


@pytest.fixture
def git_repo(tmp_path, base):
    """A git repository: branch master (Dockerfile, index.html) and branch site (site/...),
    and a bare clone of it in served/repo.git."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git("init", "-q", cwd=repo)
    (repo / "Dockerfile").write_text(f"FROM {base.ref}\nCOPY . /ctx\n")
    (repo / "index.html").write_text("committed\n")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "master", cwd=repo)
    _git("checkout", "-q", "-b", "site", cwd=repo)
    (repo / "site").mkdir()
    (repo / "site" / "Dockerfile").write_text(f"FROM {base.ref}\nCOPY . /ctx\n")
    (repo / "site" / "page.html").write_text("on branch site\n")
    _git("add", ".", cwd=repo)
    _git("commit", "-qm", "site", cwd=repo)
    _git("checkout", "-q", "master", cwd=repo)
    bare = tmp_path / "served" / "repo.git"
    _git("clone", "-q", "--bare", str(repo), str(bare), cwd=tmp_path)
    _git("update-server-info", cwd=bare)
    return repo


@pytest.fixture
def git_http(git_repo):
    """The repository over git's dumb HTTP protocol, on 127.0.0.1 and a port the kernel picks."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(git_repo.parent / "served"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    remote.expose(server.server_address[1])  # the same address on a remote implementation host
    yield f"http://127.0.0.1:{server.server_address[1]}/repo.git"
    remote.withdraw(server.server_address[1])
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def test_build_from_a_local_git_directory_sends_its_working_tree(cli, git_repo, messages):
    (git_repo / "index.html").write_text("not committed\n")
    _, log = build(cli, messages, git_repo)
    assert cli.ok("run", "--rm", log.image, "cat", "/ctx/index.html").stdout == "not committed\n"
    # a plain directory to the builder: .git goes along, other branches do not
    listed = cli.ok("run", "--rm", log.image, "ls", "-a", "/ctx").lines
    assert sorted(listed) == [".", "..", ".git", "Dockerfile", "index.html"]


def test_build_from_a_git_url_uses_the_committed_tree(cli, git_repo, git_http, messages):
    (git_repo / "index.html").write_text("not committed\n")
    _, log = build(cli, messages, git_http)
    assert cli.ok("run", "--rm", log.image, "cat", "/ctx/index.html").stdout == "committed\n"
    # the client clones the repository and sends the clone, .git included
    listed = cli.ok("run", "--rm", log.image, "ls", "-a", "/ctx").lines
    assert sorted(listed) == [".", "..", ".git", "Dockerfile", "index.html"]


def test_build_from_a_git_url_without_a_ref_fetches_master_not_head(cli, git_repo, git_http, messages):
    bare = git_repo.parent / "served" / "repo.git"
    _git("checkout", "-q", "-b", "main", cwd=git_repo)
    (git_repo / "index.html").write_text("on main\n")
    _git("commit", "-qam", "main", cwd=git_repo)
    _git("push", "-q", str(bare), "main", cwd=git_repo)
    _git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
    _git("update-server-info", cwd=bare)
    _, log = build(cli, messages, git_http)
    assert cli.ok("run", "--rm", log.image, "cat", "/ctx/index.html").stdout == "committed\n"
    _, main = build(cli, messages, f"{git_http}#main")
    assert cli.ok("run", "--rm", main.image, "cat", "/ctx/index.html").stdout == "on main\n"


def test_build_from_a_git_url_with_branch_and_subdirectory(cli, git_http, messages):
    _, log = build(cli, messages, f"{git_http}#site:site")
    listed = cli.ok("run", "--rm", log.image, "find", "/ctx", "-type", "f").lines
    assert sorted(listed) == ["/ctx/Dockerfile", "/ctx/page.html"]


def test_build_from_a_git_protocol_url(cli, git_repo, host_port_allocator, messages):
    port = host_port_allocator()
    served = git_repo.parent / "served"
    daemon = subprocess.Popen(
        ["git", "daemon", "--listen=127.0.0.1", f"--port={port}", f"--base-path={served}",
         "--export-all", "--reuseaddr", str(served)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert daemon.poll() is None and time.monotonic() < deadline, "git daemon did not start"
                time.sleep(0.05)
        remote.expose(port)
        _, log = build(cli, messages, f"git://127.0.0.1:{port}/repo.git")
        assert cli.ok("run", "--rm", log.image, "cat", "/ctx/index.html").stdout == "committed\n"
    finally:
        remote.withdraw(port)
        os.killpg(daemon.pid, signal.SIGTERM)  # the daemon and its per-connection children
        daemon.wait(timeout=10)


def test_quiet_build_prints_only_the_image_id_and_the_steps_output_when_it_fails(cli, base, context, messages):
    built = cli.build(context({"Dockerfile": f"FROM {base.ref}\nRUN echo step-output\n"}), "-q", "--no-cache")
    assert built.rc == 0, built.describe()
    assert len(built.stdout.splitlines()) == 1, built.describe()
    assert ids.full(built.stdout) == built.image
    assert "step-output" not in built.stderr and "Step 1/2" not in built.stderr, built.describe()
    failed = cli.build(context({"Dockerfile": f"FROM {base.ref}\nRUN echo failing-output; exit 3\n"}), "-q")
    assert (failed.rc, failed.stdout) == (3, ""), failed.describe()
    assert "failing-output" in failed.stderr, failed.describe()
    expect_message(failed.stderr, messages, "build.run_failed", command="echo failing-output; exit 3", code=3)
