#!/usr/bin/python3
"""One ICMP/ICMPv6 echo to ADDR, 1 s timeout: exit 0 on a reply.

iputils-ping is not a dependency of the tests; raw sockets need root,
which every namespace test has.
"""
import os
import select
import socket
import struct
import sys
import time


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    addr = sys.argv[1]
    v6 = ":" in addr
    ident = os.getpid() & 0xFFFF
    if v6:
        sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
        req, rep = 128, 129
    else:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        req, rep = 8, 0
    payload = b"ftpx-ping"
    hdr = struct.pack("!BBHHH", req, 0, 0, ident, 1)
    # the kernel fills in the ICMPv6 checksum (it needs the pseudo-header)
    if not v6:
        hdr = struct.pack("!BBHHH", req, 0, csum(hdr + payload), ident, 1)
    sock.sendto(hdr + payload, (addr, 0))
    end = time.monotonic() + 1.0
    while True:
        left = end - time.monotonic()
        if left <= 0 or not select.select([sock], [], [], left)[0]:
            return 1
        data, _ = sock.recvfrom(2048)
        if not v6:
            data = data[(data[0] & 0x0F) * 4:]
        typ, _, _, rid, _ = struct.unpack("!BBHHH", data[:8])
        if typ == rep and rid == ident:
            return 0


if __name__ == "__main__":
    sys.exit(main())
