"""Records of the NetworkService."""
from __future__ import annotations

from dataclasses import dataclass, field

from reference_impl.engine.filters import Filters


@dataclass(frozen=True)
class NetworkCreateOptions:
    """`network create` and POST /networks/create."""
    name: str
    driver: str = "bridge"
    subnet: str = ""
    gateway: str = ""
    ip_range: str = ""
    internal: bool = False
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NetworkSummary:
    """One row of `network ls` / one entry of GET /networks."""
    id: str
    name: str
    driver: str
    scope: str
    created: str
    internal: bool
    labels: dict[str, str]
    document: dict      # the whole inspect document (the API's list shows it)


@dataclass(frozen=True)
class ConnectOptions:
    """`network connect` and POST /networks/{id}/connect."""
    network: str
    container: str
    aliases: list[str] = field(default_factory=list)
    ip: str = ""


@dataclass(frozen=True)
class NetworkListOptions:
    filters: Filters = field(default_factory=dict)
