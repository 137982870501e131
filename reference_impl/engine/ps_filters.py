"""`ps` / GET /containers/json filters, as dockerd 20.10 applies them (daemon/list.go):
every documented key is applied, a bad value is refused in dockerd's words."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from reference_impl.engine import filters as flt
from reference_impl.errors import EngineError, InvalidArgument, NotFound
from reference_impl.store import Container, Store

if TYPE_CHECKING:
    from reference_impl.engine.records.container_views import ContainerSummary

KEYS = frozenset({"id", "name", "label", "exited", "status", "ancestor", "before", "since", "volume",
                  "network", "publish", "expose", "health", "isolation", "is-task"})
STATUSES = frozenset({"created", "restarting", "running", "removing", "paused", "exited", "dead"})
HEALTH = frozenset({"starting", "healthy", "unhealthy", "none"})


class Matcher:
    """The filters checked once, then applied to each container and its summary."""

    def __init__(self, store: Store, filters: flt.Filters):
        flt.check_keys(filters, KEYS)
        self.store, self.f = store, filters
        for value in filters.get("status", []):
            if value not in STATUSES:
                raise InvalidArgument(f"Invalid filter 'status={value}'")
        for value in filters.get("health", []):
            if value not in HEALTH:
                raise InvalidArgument(f"Unrecognised filter value for health: {value}")
        self.exited = {_atoi(v) for v in filters.get("exited", [])}
        self.is_task = flt.boolean(filters, "is-task")
        self.publish = _port_set(filters.get("publish", []), "publish")
        self.expose = _port_set(filters.get("expose", []), "expose")
        self.before = self._created_ns(filters["before"][-1]) if filters.get("before") else None
        self.since = self._created_ns(filters["since"][-1]) if filters.get("since") else None
        self.ancestors = self._ancestors(filters.get("ancestor", []))

    @property
    def shows_stopped(self) -> bool:
        """A status filter lists stopped containers without `all`, as dockerd does."""
        return "status" in self.f

    def _created_ns(self, name: str) -> int:
        try:
            return self.store.containers.resolve(name).config.get("CreatedNs", 0)
        except NotFound:
            raise NotFound(f"no such container {name}") from None

    def _ancestors(self, names: list[str]) -> set[str] | None:
        if not names:
            return None
        wanted = set()
        for text in names:
            try:
                wanted.add(self.store.images.resolve(text))
            except EngineError:
                continue
        return wanted

    def _image_chain(self, image_id: str) -> set[str]:
        chain = set()
        while image_id and image_id not in chain:
            chain.add(image_id)
            try:
                image_id = self.store.images.get(image_id).parent
            except EngineError:
                break
        return chain

    def matches(self, container: Container, summary: ContainerSummary) -> bool:
        f = self.f
        if "label" in f and not flt.labels_match(summary.labels, f["label"]):
            return False
        if "name" in f and not any(_name_matches(p, container.name) for p in f["name"]):
            return False
        if "id" in f and not any(container.id.startswith(p) for p in f["id"]):
            return False
        if "status" in f and summary.state not in f["status"]:
            return False
        if self.exited and not (summary.state == "exited"
                                and container.state.get("ExitCode", 0) in self.exited):
            return False
        created = container.config.get("CreatedNs", 0)
        if self.before is not None and created >= self.before:
            return False
        if self.since is not None and created <= self.since:
            return False
        if self.ancestors is not None and not self.ancestors & self._image_chain(container.config.get("Image")):
            return False
        if "volume" in f:  # strata mounts no volumes: no container uses one
            return False
        if "network" in f and not any(_network_matches(p, summary.networks) for p in f["network"]):
            return False
        if "health" in f and health_status(container) not in f["health"]:
            return False
        if self.is_task:  # no container is a swarm task
            return False
        if self.publish is not None or self.expose is not None:
            published = {(p.public_port, p.type) for p in summary.ports}
            exposed = {(p.private_port, p.type) for p in summary.ports}
            if not ((self.publish or set()) & published or (self.expose or set()) & exposed):
                return False
        # isolation: on Linux dockerd lets every value through (there is one isolation)
        return True


def _atoi(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise InvalidArgument(f'strconv.Atoi: parsing "{text}": invalid syntax') from None


def _port_set(values: list[str], key: str) -> set[tuple[int, str]] | None:
    """`80`, `80/udp`, `8000-8080/tcp` -> {(port, proto)}."""
    if not values:
        return None
    found = set()
    for value in values:
        spec, _, proto = value.partition("/")
        first, _, last = spec.partition("-")
        try:
            low = _uint16(first)
            high = _uint16(last) if last else low
        except ValueError as exc:
            raise InvalidArgument(f"error while looking up for {key} {value}: {exc}") from None
        found.update((port, proto or "tcp") for port in range(low, high + 1))
    return found


def _uint16(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f'strconv.ParseUint: parsing "{text}": invalid syntax')
    number = int(text)
    if number > 65535:
        raise ValueError(f'strconv.ParseUint: parsing "{text}": value out of range')
    return number


def _name_matches(pattern: str, name: str) -> bool:
    """dockerd's name filter: a regular expression, tried on "/name" and on "name"."""
    try:
        return any(re.search(pattern, n) for n in ("/" + name, name))
    except re.error:
        return pattern.lstrip("/") in name


def _network_matches(pattern: str, networks: dict) -> bool:
    return any(pattern == name or (pattern and (endpoint.get("NetworkID") or "").startswith(pattern))
               for name, endpoint in networks.items())


def health_status(container: Container) -> str:
    """starting / healthy / unhealthy, or none without a healthcheck."""
    from reference_impl.lifecycle import health
    report = health.read(container.dir) if container.running else None
    return report["Status"] if report else "none"
