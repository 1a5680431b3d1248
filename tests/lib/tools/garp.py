#!/usr/bin/python3
"""Gratuitous ARP: garp.py DEV ADDR [DEV ADDR...]

Sends two ARP requests for each ADDR from ADDR out of its DEV, to the
broadcast address, as a router does when it takes over a virtual address:
the switch learns the new port of ADDR's MAC, and neighbours with an ARP
entry for ADDR replace the old router's MAC by DEV's.
"""
import socket
import struct
import sys


def garp(dev, addr, count=2):
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
    s.close()


def main():
    args = sys.argv[1:]
    if not args or len(args) % 2:
        sys.stderr.write("usage: garp.py DEV ADDR [DEV ADDR...]\n")
        return 2
    for i in range(0, len(args), 2):
        garp(args[i], args[i + 1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
