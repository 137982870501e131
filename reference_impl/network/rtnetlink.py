"""A container's veth pair made by one rtnetlink request (what `ip link add … type veth peer …
netns PID` and `ip link set … master BRIDGE up` send), without starting `ip`: on every start
that process cost a fork and an exec of a dynamically linked program.

Message layout (<linux/netlink.h>, <linux/rtnetlink.h>, <linux/if_link.h>, <linux/veth.h>):
an nlmsghdr, an ifinfomsg, then attributes (length, type, payload padded to 4 bytes), nested
for the link's kind and the peer (which carries an ifinfomsg of its own).
"""
from __future__ import annotations

import errno
import os
import socket
import struct

RTM_NEWLINK = 16
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 0x1, 0x4, 0x200, 0x400
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_PID = 1, 3, 10, 18, 19
IFLA_INFO_KIND, IFLA_INFO_DATA = 1, 2
VETH_INFO_PEER = 1
IFF_UP = 0x1

_NLMSGHDR = struct.Struct("=IHHII")     # length, type, flags, sequence, port
_IFINFOMSG = struct.Struct("=BxHiII")   # family, type, index, flags, change
_RTATTR = struct.Struct("=HH")          # length, type


def add_veth(name: str, master: str, peer_name: str, peer_mac: str, peer_pid: int) -> None:
    """`name` on the bridge `master`, up; its peer `peer_name` with `peer_mac` in the network
    namespace of `peer_pid`. OSError with the kernel's errno (and ip's words) on failure."""
    peer = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0) + \
        _attr(IFLA_IFNAME, peer_name.encode() + b"\0") + \
        _attr(IFLA_ADDRESS, bytes.fromhex(peer_mac.replace(":", ""))) + \
        _attr(IFLA_NET_NS_PID, struct.pack("=I", peer_pid))
    link_info = _attr(IFLA_INFO_KIND, b"veth") + _attr(IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer))
    body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, IFF_UP, IFF_UP) + \
        _attr(IFLA_IFNAME, name.encode() + b"\0") + \
        _attr(IFLA_MASTER, struct.pack("=I", socket.if_nametoindex(master))) + \
        _attr(IFLA_LINKINFO, link_info)
    _request(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body)


def _attr(kind: int, payload: bytes) -> bytes:
    length = _RTATTR.size + len(payload)
    return _RTATTR.pack(length, kind) + payload + b"\0" * (-length % 4)


def _request(kind: int, flags: int, body: bytes) -> None:
    """Send one request and wait for its acknowledgement."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
        s.bind((0, 0))
        s.sendall(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), kind, NLM_F_REQUEST | NLM_F_ACK | flags, 1, 0) + body)
        while True:
            answer = s.recv(65536)
            if not answer:
                raise OSError(errno.EIO, "RTNETLINK: no answer")
            offset = 0
            while offset + _NLMSGHDR.size <= len(answer):
                length, answer_kind, _, sequence, _ = _NLMSGHDR.unpack_from(answer, offset)
                if answer_kind == NLMSG_ERROR and sequence == 1:
                    code = -struct.unpack_from("=i", answer, offset + _NLMSGHDR.size)[0]
                    if code:
                        raise OSError(code, f"RTNETLINK answers: {os.strerror(code)}")
                    return
                offset += max(length, _NLMSGHDR.size) + (-length % 4)
