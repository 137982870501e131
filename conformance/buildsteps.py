"""Reading the classic builder's output step by step, with the words from message data.

A build prints, per instruction, a ``build.step`` line and then the lines of that
step: ``build.using_cache`` on a cache hit, ``build.running_in_container`` when it
runs a container, and ``build.step_result`` with the step's (short) image id. The
line shapes come from the implementation's messages file, never from this module.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from conformance.messages import template_regex

_HEX = r"[0-9a-f]{11,64}"  # podman prints 11 hex digits per step, Docker 12


def _line(template: str, **groups: str) -> re.Pattern:
    """A whole output line of a message template, its {placeholders} as named groups."""
    return re.compile("^" + template_regex(template, groups=groups).pattern + r"\s*$")


@dataclass
class Step:
    number: int
    total: int
    instruction: str
    cached: bool = False
    container: str | None = None   # the container the step ran in, if any
    image: str | None = None       # the step's image id as printed (short)
    lines: list[str] = field(default_factory=list)


@dataclass
class BuildLog:
    steps: list[Step]
    built: str | None              # the id printed by build.built (words: the build's output)
    tagged: list[str]              # the refs printed by build.tagged
    image: str | None = None       # the built image's full id, from --iidfile (behaviour)

    def images(self) -> list[str | None]:
        return [s.image for s in self.steps]

    def step(self, number: int) -> Step:
        """Step `number` (from 1); a build that did not print it fails the check."""
        __tracebackhide__ = True
        numbered = [s for s in self.steps if s.number == number]
        assert len(numbered) == 1, f"expected one step {number}, the build printed {self.steps}"
        return numbered[0]


def parse(stdout: str, messages: dict[str, str]) -> BuildLog:
    step_re = _line(messages["build.step"], n=r"\d+", total=r"\d+", instruction=".*")
    cache_re = _line(messages["build.using_cache"])
    running_re = _line(messages["build.running_in_container"], id=_HEX)
    result_re = _line(messages["build.step_result"], id=_HEX)
    built_re = _line(messages["build.built"], id=_HEX)
    tagged_re = _line(messages["build.tagged"], ref=r"\S+")
    steps: list[Step] = []
    built, tagged = None, []
    for line in stdout.splitlines():
        if m := step_re.match(line):
            steps.append(Step(int(m["n"]), int(m["total"]), m["instruction"]))
            continue
        if m := built_re.match(line):
            built = m["id"]
            continue
        if m := tagged_re.match(line):
            tagged.append(m["ref"])
            continue
        if not steps:
            continue
        current = steps[-1]
        current.lines.append(line)
        if cache_re.match(line):
            current.cached = True
        elif m := running_re.match(line):
            current.container = m["id"]
        elif m := result_re.match(line):
            current.image = m["id"]
    return BuildLog(steps, built, tagged)


def seed_dockerfile(base_ref: str, refreshed: str = "2016-11-09") -> str:
    """The seed's static_web Dockerfile (§6), on this check's base image."""
    return (f"FROM {base_ref}\n"
            'MAINTAINER James Turnbull "james@example.com"\n'
            f"ENV REFRESHED_AT {refreshed}\n"
            "RUN mkdir -p /www && echo 'Hi, I am in your container' > /www/index.html\n"
            "EXPOSE 80\n")


def build(cli, messages: dict[str, str], context, *options, tag: str | None = None):
    """A build that must succeed: (its Result, its BuildLog)."""
    __tracebackhide__ = True
    result = cli.build(context, *options, tag=tag)
    assert result.rc == 0, f"expected the build to succeed:\n{result.describe()}"
    log = parse(result.stdout, messages)
    log.image = result.image
    return result, log
