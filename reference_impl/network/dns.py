"""The embedded DNS server of a container on a user-defined network, at 127.0.0.11:53/udp
inside the container's network namespace (a thread of its shim; dnslib parses and builds the
messages).

It answers A queries for the names of the containers that share a user-defined network with
the asking one — their names, their --network-alias aliases and their short ids — with their
address on that shared network, read from the store at each query so that `connect`,
`disconnect` and containers coming and going show at once. AAAA for a known name: no answer
(NOERROR), as dockerd's resolver gives. Every other name is NXDOMAIN: strata forwards nothing
to servers outside the run's own namespaces.
"""
from __future__ import annotations

import socket
import threading

from dnslib import QTYPE, RCODE, RR, A, DNSRecord

from reference_impl import syscalls as sc
from reference_impl.network.etcfiles import EMBEDDED_DNS

TTL = 600


def serve(netns_fd: int, lookup, stopping: threading.Event) -> threading.Thread:
    """Start the server thread; `lookup(name) -> list[str]` gives the addresses of a name."""
    ready = threading.Event()
    failure: list[BaseException] = []

    def run():
        try:
            sc.setns(netns_fd, sc.CLONE_NEWNET)
            sc.loopback_up()  # PID 1 may not have brought it up yet
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind((EMBEDDED_DNS, 53))
            sock.settimeout(1.0)
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            return
        ready.set()
        with sock:
            while not stopping.is_set():
                try:
                    data, peer = sock.recvfrom(4096)
                except socket.timeout:
                    continue
                except OSError:
                    return
                reply = answer(data, lookup)
                if reply is not None:
                    try:
                        sock.sendto(reply, peer)
                    except OSError:
                        pass

    thread = threading.Thread(target=run, daemon=True, name="strata-dns")
    thread.start()
    ready.wait()
    if failure:
        raise failure[0]
    return thread


def answer(data: bytes, lookup) -> bytes | None:
    try:
        request = DNSRecord.parse(data)
    except Exception:  # noqa: BLE001 — not a DNS message: nothing to answer
        return None
    reply = request.reply()
    reply.header.ra = 1
    if not request.questions:
        reply.header.rcode = RCODE.FORMERR
        return reply.pack()
    question = request.q
    name = str(question.qname).rstrip(".").lower()
    try:
        addresses = lookup(name)
    except Exception:  # noqa: BLE001 — a store being rewritten: ask again
        reply.header.rcode = RCODE.SERVFAIL
        return reply.pack()
    if not addresses:
        reply.header.rcode = RCODE.NXDOMAIN
    elif question.qtype == QTYPE.A:
        for address in addresses:
            reply.add_answer(RR(question.qname, QTYPE.A, rdata=A(address), ttl=TTL))
    return reply.pack()
