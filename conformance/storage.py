"""Storage outside image layers, for the volume and cp checks: the volumes a check makes
are removed in its finalizer, with the anonymous ones of its containers (`rm -f -v`)."""
from __future__ import annotations

import json

import pytest

from conformance.cli import Cli
from conformance.naming import LABEL_CHECK


class Volumes:
    """The volumes one check made or saw: removed after the check, whatever it left."""

    def __init__(self, cli: Cli, check: str):
        self.cli, self.check = cli, check
        self.names: list[str] = []

    def create(self, name: str, *flags: str) -> str:
        self.names.append(name)
        self.cli.ok("volume", "create", *flags, name)
        return name

    def track(self, *names: str) -> None:
        self.names.extend(names)

    def mounts(self, container: str) -> list[dict]:
        """The container's .Mounts, sorted by destination (Docker lists them in map order);
        the volumes among them are removed after the check."""
        found = json.loads(self.cli.inspect(container, "{{json .Mounts}}"))
        self.track(*(m["Name"] for m in found if m.get("Type") == "volume"))
        return sorted(found, key=lambda m: m["Destination"])

    def remove_all(self) -> None:
        containers = self.cli.run("ps", "-a", "-q", "--no-trunc", "--filter", f"label={LABEL_CHECK}={self.check}")
        if containers.lines:
            self.cli.run("rm", "-f", "-v", *containers.lines)
        for name in dict.fromkeys(self.names):
            self.cli.run("volume", "rm", "-f", name)


@pytest.fixture
def volumes(cli, names) -> Volumes:
    made = Volumes(cli, names.prefix)
    yield made
    made.remove_all()
