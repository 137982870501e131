"""NetworkService: what `strata network …` and /networks/… do, once."""
from __future__ import annotations

from reference_impl.engine import filters as flt
from reference_impl.engine.records.prune import PruneReport
from reference_impl.engine.records.networks import (ConnectOptions, NetworkCreateOptions, NetworkListOptions,
                                                    NetworkSummary)
from reference_impl.errors import InvalidArgument, InvalidInput, NotFound
from reference_impl.network import endpoints, ipam
from reference_impl.network.networks import Network, NetworkStore
from reference_impl.store import Store

LIST_FILTERS = frozenset({"driver", "id", "label", "name", "scope", "type", "dangling"})
PRUNE_FILTERS = frozenset({"label", "label!", "until"})


class NetworkService:
    def __init__(self, store: Store):
        self.store = store
        self.networks = NetworkStore(store.root)

    def get(self, name: str) -> Network:
        return self.networks.resolve(name)

    def create(self, o: NetworkCreateOptions) -> Network:
        if o.driver != "bridge":
            raise NotFound(f"plugin \"{o.driver}\" not found") if o.driver not in ("host", "null") else \
                InvalidArgument(f"only one instance of \"{o.driver}\" network is allowed")
        if o.options:
            raise InvalidArgument(f"strata's bridge driver takes no options: {', '.join(sorted(o.options))}")
        if (o.gateway or o.ip_range) and not o.subnet:
            raise InvalidInput("every ip-range or gateway must have a corresponding subnet")
        if not o.name:
            raise InvalidInput("network name must not be empty")
        return self.networks.create(o.name, subnet=o.subnet, gateway=o.gateway, ip_range=o.ip_range,
                                    internal=o.internal, labels=o.labels)

    def inspect(self, name: str) -> dict:
        return self.document(self.get(name))

    def document(self, net: Network) -> dict:
        """Docker's network inspect document."""
        members = {}
        for container, endpoint in endpoints.members(self.store.root, net.id):
            members[container.id] = {"Name": container.name, "EndpointID": endpoint["EndpointID"],
                                     "MacAddress": endpoint["MacAddress"],
                                     "IPv4Address": f"{endpoint['IPAddress']}/{endpoint['IPPrefixLen']}",
                                     "IPv6Address": ""}
        return {"Name": net.name, "Id": net.id, "Created": net.created, "Scope": "local", "Driver": net.driver,
                "EnableIPv6": False,
                "IPAM": {"Driver": "default", "Options": None if net.builtin and net.name != "bridge" else {},
                         "Config": net.ipam_config()},
                "Internal": net.internal, "Attachable": False, "Ingress": False,
                "ConfigFrom": {"Network": ""}, "ConfigOnly": False, "Containers": members,
                "Options": net.options, "Labels": net.labels}

    def list(self, options: NetworkListOptions) -> list[NetworkSummary]:
        filters = options.filters
        flt.check_keys(filters, LIST_FILTERS)
        found = []
        for net in sorted(self.networks.all(), key=lambda n: n.name):
            if not _matches(net, filters) or not self._dangling_matches(net, filters):
                continue
            found.append(NetworkSummary(id=net.id, name=net.name, driver=net.driver, scope="local",
                                        created=net.created, internal=net.internal, labels=net.labels,
                                        document=self.document(net)))
        return found

    def _dangling_matches(self, net: Network, filters: flt.Filters) -> bool:
        """dangling=true: user-defined networks no running container is on."""
        wanted = flt.boolean(filters, "dangling")
        if wanted is None:
            return True
        return (net.user_defined and not endpoints.members(self.store.root, net.id)) == wanted

    def remove(self, name: str) -> Network:
        net = self.get(name)
        if net.builtin:
            raise InvalidArgument(f"{net.name} is a pre-defined network and cannot be removed")
        if endpoints.members(self.store.root, net.id):
            raise InvalidArgument(f"error while removing network: network {net.name} id {net.id} "
                                  "has active endpoints")
        self.networks.remove(net)
        ipam.forget(net.id)
        return net

    def prune(self, filters: flt.Filters) -> PruneReport:
        flt.check_keys(filters, PRUNE_FILTERS)
        cutoff = flt.until(filters["until"][-1]) if filters.get("until") else None
        removed = []
        for net in self.networks.user_networks():
            if "label" in filters and not flt.labels_match(net.labels, filters["label"]):
                continue
            if "label!" in filters and not flt.labels_unmatched(net.labels, filters["label!"]):
                continue
            if cutoff is not None:
                from reference_impl import humanize
                if humanize.parse_rfc3339(net.created) >= cutoff:
                    continue
            if endpoints.members(self.store.root, net.id):
                continue
            self.networks.remove(net)
            ipam.forget(net.id)
            removed.append(net.name)
        return PruneReport(deleted=removed, space_reclaimed=0)

    def connect(self, o: ConnectOptions) -> None:
        net = self.get(o.network)
        container = self.store.containers.resolve(o.container)
        with self.store.lock():
            endpoints.connect(self.store.root, self.store.containers, container, net, o.aliases, o.ip)

    def disconnect(self, network: str, container_name: str, force: bool = False) -> None:
        net = self.get(network)
        container = self.store.containers.resolve(container_name)
        with self.store.lock():
            endpoints.disconnect(self.store.root, self.store.containers, container, net)


def _matches(net: Network, filters: flt.Filters) -> bool:
    if "name" in filters and not any(v in net.name for v in filters["name"]):
        return False
    if "id" in filters and not any(net.id.startswith(v) for v in filters["id"]):
        return False
    if "driver" in filters and net.driver not in filters["driver"]:
        return False
    if "label" in filters and not flt.labels_match(net.labels, filters["label"]):
        return False
    if "scope" in filters and "local" not in filters["scope"]:
        return False
    if "type" in filters:
        for value in filters["type"]:
            if value not in ("custom", "builtin"):
                raise InvalidArgument(f"invalid filter: 'type'='{value}'")
        if ("custom" if net.user_defined else "builtin") not in filters["type"]:
            return False
    return True
