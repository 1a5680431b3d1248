#!/usr/bin/python3
"""TCP payload streams of every connection in a pcap file (tcpdump -w).

  pcapstream.py FILE [--dump DIR]

One line per TCP connection, in the order of their first packet:

  CPORT SPORT c2s LEN SHA256 s2c LEN SHA256 [gaps=N]

CPORT/SPORT are the client's and the server's port (the client is the side
that sent the SYN; without a SYN, the side with the higher port). The
addresses are left out on purpose: captures taken on both sides of a NAT
router then give the same line for a connection whose bytes were not
changed. Each stream is reassembled by sequence number: retransmitted bytes
count once, and a hole (bytes never captured) is reported as gaps=N. With
--dump DIR the streams are also written to DIR/CPORT-SPORT.c2s and .s2c for
cmp(1). Link types: Ethernet, Linux cooked (SLL, SLL2), raw IP. Standard
library only. Exit status: 0, or 1 when the file cannot be read.
"""
import argparse
import hashlib
import os
import struct
import sys

LINK_ETHERNET = 1
LINK_RAW = 101
LINK_SLL = 113
LINK_SLL2 = 276


def packets(path):
    """Yield (linktype, frame) from a pcap file."""
    with open(path, "rb") as f:
        hdr = f.read(24)
        if len(hdr) < 24:
            raise ValueError("short pcap header")
        magic = hdr[:4]
        if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
            endian = "<"
        elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
            endian = ">"
        else:
            raise ValueError("not a pcap file (pcapng is not supported)")
        linktype = struct.unpack(endian + "I", hdr[20:24])[0] & 0x0FFFFFFF
        rec = struct.Struct(endian + "IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                return
            _, _, caplen, origlen = rec.unpack(h)
            data = f.read(caplen)
            if len(data) < caplen:
                return
            if caplen < origlen:
                raise ValueError("truncated packets: capture with -s 0")
            yield linktype, data


def ip_payload(linktype, frame):
    """Return (ethertype-ish version, ip packet) or None."""
    if linktype == LINK_ETHERNET:
        off, etype = 14, struct.unpack("!H", frame[12:14])[0]
        while etype in (0x8100, 0x88A8):  # VLAN tags
            etype = struct.unpack("!H", frame[off + 2:off + 4])[0]
            off += 4
    elif linktype == LINK_SLL:
        off, etype = 16, struct.unpack("!H", frame[14:16])[0]
    elif linktype == LINK_SLL2:
        off, etype = 20, struct.unpack("!H", frame[0:2])[0]
    elif linktype == LINK_RAW:
        off = 0
        etype = 0x0800 if frame[0] >> 4 == 4 else 0x86DD
    else:
        raise ValueError("unsupported link type %d" % linktype)
    if etype not in (0x0800, 0x86DD):
        return None
    return frame[off:]


def tcp_segment(ip):
    """Return (src, dst, sport, dport, seq, flags, payload) or None."""
    if ip[0] >> 4 == 4:
        ihl = (ip[0] & 15) * 4
        total = struct.unpack("!H", ip[2:4])[0]
        if ip[9] != 6 or struct.unpack("!H", ip[6:8])[0] & 0x3FFF:
            return None  # not TCP, or a fragment
        src, dst = ip[12:16], ip[16:20]
        tcp = ip[ihl:total]
    else:
        nxt, plen = ip[6], struct.unpack("!H", ip[4:6])[0]
        src, dst = ip[8:24], ip[24:40]
        off = 40
        # hop-by-hop, routing, destination options
        while nxt in (0, 43, 60):
            nxt, hl = ip[off], (ip[off + 1] + 1) * 8
            off += hl
        if nxt != 6:
            return None
        tcp = ip[off:40 + plen]
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    doff = (tcp[12] >> 4) * 4
    flags = tcp[13]
    return src, dst, sport, dport, seq, flags, tcp[doff:]


class Stream:
    def __init__(self):
        self.isn = None  # seq of the first payload byte
        self.segs = {}  # relative offset -> bytes (longest kept)

    def add(self, seq, flags, payload):
        if flags & 0x02:  # SYN: data starts at seq + 1
            self.isn = (seq + 1) & 0xFFFFFFFF
            return
        if not payload:
            return
        if self.isn is None:
            self.isn = seq
        rel = (seq - self.isn) & 0xFFFFFFFF
        if rel >= 0x80000000:  # before the first byte seen: ignore
            return
        if len(payload) > len(self.segs.get(rel, b"")):
            self.segs[rel] = payload

    def data(self):
        """The stream bytes and the number of missing bytes."""
        out = bytearray()
        gaps = 0
        for rel in sorted(self.segs):
            seg = self.segs[rel]
            if rel > len(out):
                gaps += rel - len(out)
                out.extend(b"\0" * (rel - len(out)))
            if rel + len(seg) > len(out):
                out.extend(seg[len(out) - rel:])
        return bytes(out), gaps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("file")
    ap.add_argument("--dump", metavar="DIR")
    a = ap.parse_args()

    conns = {}  # frozenset of endpoints -> dict
    order = []
    try:
        for linktype, frame in packets(a.file):
            ip = ip_payload(linktype, frame)
            if ip is None:
                continue
            seg = tcp_segment(ip)
            if seg is None:
                continue
            src, dst, sport, dport, seq, flags, payload = seg
            key = frozenset(((src, sport), (dst, dport)))
            c = conns.get(key)
            if c is None:
                c = {"client": None, "streams": {}}
                conns[key] = c
                order.append(key)
            if flags & 0x12 == 0x02 and c["client"] is None:  # SYN only
                c["client"] = (src, sport)
            c["streams"].setdefault((src, sport), Stream()).add(seq, flags, payload)
    except (OSError, ValueError, IndexError, struct.error) as e:
        sys.stderr.write("pcapstream: %s: %s\n" % (a.file, e))
        return 1

    for key in order:
        c = conns[key]
        ends = sorted(key, key=lambda e: e[1])
        if len(ends) < 2:  # a connection to itself: nothing to compare
            continue
        client = c["client"] or ends[-1]
        server = ends[0] if ends[1] == client else ends[1]
        fields = ["%d %d" % (client[1], server[1])]
        missing = 0
        for name, end in (("c2s", client), ("s2c", server)):
            st = c["streams"].get(end)
            data, gaps = st.data() if st else (b"", 0)
            missing += gaps
            fields.append("%s %d %s" % (name, len(data), hashlib.sha256(data).hexdigest()))
            if a.dump:
                os.makedirs(a.dump, exist_ok=True)
                with open(os.path.join(a.dump, "%d-%d.%s" % (client[1], server[1], name)), "wb") as f:
                    f.write(data)
        if missing:
            fields.append("gaps=%d" % missing)
        print(" ".join(fields))
    return 0


if __name__ == "__main__":
    sys.exit(main())
