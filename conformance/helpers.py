"""What several checks ask of an implementation the same way: an image's layers, an image
built FROM a base plus steps, a command on a scripted terminal. Ids are compared through
conformance/ids.py, message words through conformance/messages.py (template_regex,
expect_message)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

TERMINAL = Path(__file__).parent / "probes" / "terminal.py"


def layers(cli, ref: str) -> list[str]:
    """The image's layer diff ids, as inspect shows them (RootFS.Layers)."""
    return json.loads(cli.inspect(ref, "{{json .RootFS.Layers}}"))


def build_from(cli, context, base_ref: str, tag: str, *steps: str) -> str:
    """Build `FROM base_ref` plus steps (Dockerfile lines), tagged `tag`; its full image id."""
    dockerfile = "\n".join([f"FROM {base_ref}", *steps]) + "\n"
    return cli.build_ok(context({"Dockerfile": dockerfile}), tag=tag)


def in_terminal(cli, words, *steps: tuple[str, str], size: str = ""):
    """`{cli} WORDS` on a pseudo-terminal (of `size`, ROWSxCOLUMNS); steps: ("expect", text)
    or ("send", text)."""
    keys = " ".join(f"--{kind} {{s{i}}}" for i, (kind, _) in enumerate(steps))
    if size:
        keys = f"--size {size} {keys}"
    values = {f"s{i}": text for i, (_, text) in enumerate(steps)}
    values.update({f"a{i}": word for i, word in enumerate(words)})
    args = " ".join(f"{{a{i}}}" for i in range(len(words)))
    return cli.shell(f"{{python}} {{terminal}} {keys} -- {{cli}} {args}",
                     python=sys.executable, terminal=TERMINAL, **values)
