"""What several checks ask of an implementation the same way: an image's layers, and an
image built FROM a base plus steps. Ids are compared through conformance/ids.py, message
words through conformance/messages.py (template_regex, expect_message)."""
from __future__ import annotations

import json


def layers(cli, ref: str) -> list[str]:
    """The image's layer diff ids, as inspect shows them (RootFS.Layers)."""
    return json.loads(cli.inspect(ref, "{{json .RootFS.Layers}}"))


def build_from(cli, context, base_ref: str, tag: str, *steps: str) -> str:
    """Build `FROM base_ref` plus steps (Dockerfile lines), tagged `tag`; its full image id."""
    dockerfile = "\n".join([f"FROM {base_ref}", *steps]) + "\n"
    return cli.build_ok(context({"Dockerfile": dockerfile}), tag=tag)
