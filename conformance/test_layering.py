"""Image layering (seed §1, §6 build): one image per build step, parents, layers.

Every step of a build makes an image whose parent is the previous step's image;
steps that change the filesystem add a layer, metadata steps (ENV, EXPOSE, CMD)
add only a history entry marked ``empty_layer``. What ``save`` writes is checked
against the docker-archive format: layer tar digests are the config's
``rootfs.diff_ids`` and the image id is the digest of the config file.
"""
import json
import re

from conformance import ids
from conformance.archive import saved, sha256
from conformance.helpers import layers
from conformance.messages import expect_message

CMD_ARGV = ["httpd", "-f", "-p", "80", "-h", "/www"]
# FROM, then 2 metadata steps around 2 filesystem steps, then 2 more metadata steps
STEPS = [
    "ENV REFRESHED_AT=2016-11-09",
    "RUN echo 'Hi, I am in your container' > /www/index.html",
    'RUN ["/bin/cp", "/etc/group", "/tmp/exec-form"]',
    "EXPOSE 80",
    "CMD " + json.dumps(CMD_ARGV),
]
FILESYSTEM_STEPS = [1, 2]  # indexes into STEPS
METADATA_STEPS = [0, 3, 4]


def dockerfile(base, *steps: str) -> str:
    return "\n".join([f"FROM {base.ref}", *steps]) + "\n"


def printed_step_ids(stdout: str, messages) -> list[str]:
    """The ids the build printed after each step, in order (the FROM step's first)."""
    before, after = messages["layering.step_image"].split("{id}")
    line = re.compile("^" + re.escape(before) + "([0-9a-f]{11,64})" + re.escape(after) + r"\s*$", re.M)
    return line.findall(stdout)


def build_steps(cli, base, context, names):
    result = cli.build(context({"Dockerfile": dockerfile(base, *STEPS)}), tag=names("layers"))
    assert result.rc == 0, result.describe()
    return cli.image_id(names("layers")), result


def parent_chain(cli, image_id: str) -> list[str]:
    chain = [image_id]
    for _ in range(20):
        parent = cli.inspect(chain[-1], "{{.Parent}}")
        if not parent:
            return chain
        chain.append(parent)
    raise AssertionError(f"parent chain longer than 20: {chain}")


def test_build_makes_one_image_per_step_and_history_lists_them(cli, base, context, names, messages):
    image_id, result = build_steps(cli, base, context, names)
    printed = printed_step_ids(result.stdout, messages)
    assert len(printed) == 1 + len(STEPS), result.stdout
    assert ids.same(printed[0], base.id)
    assert len(set(printed)) == len(printed), "each step must make a new image"
    assert ids.same(image_id, printed[-1])
    history = cli.ok("history", "-q", names("layers")).lines
    assert ids.same_each(history, reversed(printed))


def test_parent_chain_of_built_image_leads_back_to_base(cli, base, context, names):
    image_id, _ = build_steps(cli, base, context, names)
    chain = parent_chain(cli, image_id)
    assert ids.same(chain[-1], base.id)
    assert len(chain) == 1 + len(STEPS)
    # the chain is the image's history, step by step (what the build printed: the check above)
    assert ids.same_each(chain, cli.ok("history", "-q", "--no-trunc", names("layers")).lines)


def test_history_shows_metadata_steps_as_nop_rows_of_size_zero(cli, base, context, names, messages):
    build_steps(cli, base, context, names)
    rows = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", names("layers")).lines
    rows = [row.split("\t") for row in reversed(rows)][1:]  # oldest first, without the base
    assert len(rows) == len(STEPS)
    for index in METADATA_STEPS:
        expect_message(rows[index][1], messages, "layering.empty_size")
    expect_message(rows[0][0], messages, "layering.nop_created_by", instruction=STEPS[0])
    expect_message(rows[3][0], messages, "layering.nop_created_by", instruction=STEPS[3])
    expect_message(rows[4][0], messages, "layering.nop_cmd_exec_form",
                   args=" ".join(f'"{arg}"' for arg in CMD_ARGV))
    expect_message(rows[1][0], messages, "layering.shell_created_by", command=STEPS[1].removeprefix("RUN "))
    for index in FILESYSTEM_STEPS:
        assert rows[index][1] != messages["layering.empty_size"], rows[index]


def test_saved_config_marks_metadata_steps_as_empty_layers(cli, base, context, names, tmp_path):
    build_steps(cli, base, context, names)
    image = saved(cli, names("layers"), tmp_path)
    steps = image.history[1:]  # the base's own entry first
    assert len(image.history) == 1 + len(STEPS)
    assert [bool(h.get("empty_layer")) for h in steps] == [i in METADATA_STEPS for i in range(len(STEPS))]
    assert not image.history[0].get("empty_layer")
    non_empty = [h for h in image.history if not h.get("empty_layer")]
    assert len(non_empty) == len(image.diff_ids) == len(image.layers)


def test_layer_count_is_base_plus_filesystem_steps(cli, base, context, names):
    assert cli.inspect(base.ref, "{{len .RootFS.Layers}}") == "1"
    build_steps(cli, base, context, names)
    assert cli.inspect(names("layers"), "{{len .RootFS.Layers}}") == str(1 + len(FILESYSTEM_STEPS))


def test_run_that_changes_nothing_makes_an_image_but_no_layer(cli, base, context, names, tmp_path, messages):
    before = cli.build_ok(context({"Dockerfile": dockerfile(base, "RUN echo x > /www/x")}), tag=names("before"))
    after = cli.build_ok(context({"Dockerfile": dockerfile(base, "RUN echo x > /www/x", "RUN true")}),
                         tag=names("after"))
    assert after != before
    assert cli.inspect_id(after, "{{.Parent}}") == before
    assert layers(cli, after) == layers(cli, before)
    top = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", after).lines[0].split("\t")
    expect_message(top[0], messages, "layering.shell_created_by", command="true")
    expect_message(top[1], messages, "layering.empty_size")
    assert saved(cli, after, tmp_path).history[-1].get("empty_layer") is True


def test_saved_layer_tars_hash_to_config_diff_ids(cli, base, context, names, tmp_path):
    build_steps(cli, base, context, names)
    image = saved(cli, names("layers"), tmp_path)
    assert [layer.diff_id for layer in image.layers] == image.diff_ids
    assert image.diff_ids == layers(cli, names("layers"))


def test_image_id_is_sha256_of_saved_config(cli, base, context, names, tmp_path):
    image_id, _ = build_steps(cli, base, context, names)
    image = saved(cli, names("layers"), tmp_path)
    assert sha256(image.config_bytes) == image_id
    assert image.manifest["RepoTags"] == [cli.listed_name(f"{names('layers')}:latest")]


def test_each_layer_holds_only_its_own_step_changes(cli, base, context, names, tmp_path):
    build_steps(cli, base, context, names)
    image = saved(cli, names("layers"), tmp_path)
    assert len(image.layers) == 3
    assert "bin/busybox" in image.layers[0].members
    assert sorted(image.layers[1].members) == ["www", "www/index.html"]
    assert sorted(image.layers[2].members) == ["tmp", "tmp/exec-form"]
    assert image.layers[1].read("www/index.html") == b"Hi, I am in your container\n"


def test_images_built_from_one_base_share_its_layers(cli, base, context, names):
    one = cli.build_ok(context({"Dockerfile": dockerfile(base, "RUN echo one > /www/one")}), tag=names("one"))
    two = cli.build_ok(context({"Dockerfile": dockerfile(base, "RUN echo two > /www/two")}), tag=names("two"))
    base_layers = layers(cli, base.ref)
    one_layers, two_layers = layers(cli, one), layers(cli, two)
    assert one_layers[:len(base_layers)] == base_layers == two_layers[:len(base_layers)]
    assert len(one_layers) == len(two_layers) == len(base_layers) + 1
    assert one_layers[-1] != two_layers[-1]
    assert cli.inspect_id(one, "{{.Parent}}") == cli.inspect_id(two, "{{.Parent}}") == base.id


def test_run_exec_form_runs_the_program_without_a_shell(cli, base, context, names, messages):
    image = cli.build_ok(context({"Dockerfile": dockerfile(
        base, "ENV WORD=expanded", 'RUN ["/bin/touch", "/exec-$WORD"]', 'RUN touch "/shell-$WORD"')}),
        tag=names("exec"))
    listed = cli.ok("run", "--rm", image, "ls", "/").lines
    assert "exec-$WORD" in listed and "shell-expanded" in listed
    assert "exec-expanded" not in listed and "shell-$WORD" not in listed
    created_by = cli.ok("history", "--no-trunc", "--format", "{{.CreatedBy}}", image).lines
    assert created_by[1] == "/bin/touch /exec-$WORD"
    expect_message(created_by[0], messages, "layering.shell_created_by", command='touch "/shell-$WORD"')
