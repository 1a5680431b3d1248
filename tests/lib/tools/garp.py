#!/usr/bin/python3
"""Gratuitous ARP: garp.py DEV ADDR [COUNT]

Sends COUNT (default 2) ARP requests for ADDR from ADDR out of DEV, to the
broadcast address, as a router does when it takes over a virtual address:
the switch learns the new port of ADDR's MAC, and neighbours with an ARP
entry for ADDR replace the old router's MAC by DEV's.
"""
import socket
import struct
import sys


def main():
    dev, addr = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    with open("/sys/class/net/%s/address" % dev) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    ip = socket.inet_aton(addr)
    bcast = b"\xff" * 6
    frame = (bcast + mac + struct.pack("!H", 0x0806) +
             struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) +
             mac + ip + b"\x00" * 6 + ip)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((dev, 0))
    for _ in range(count):
        s.send(frame)
    return 0


if __name__ == "__main__":
    sys.exit(main())
