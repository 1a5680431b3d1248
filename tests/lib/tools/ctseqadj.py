#!/usr/bin/python3
"""ctseqadj.py [PORT...]: the sequence adjustment of this namespace's
IPv4 TCP conntracks, read from ctnetlink (the conntrack tool does not show
it). One line per conntrack whose original source or destination port is
among PORTs (all if none):

  sport=S dport=D orig=POS,BEFORE,AFTER reply=POS,BEFORE,AFTER

"-" for a direction without adjustment data; offsets are signed.
"""
import socket
import struct
import sys

NETLINK_NETFILTER = 12
NFNL_SUBSYS_CTNETLINK = 1
IPCTNL_MSG_CT_GET = 1
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
CTA_TUPLE_ORIG, CTA_SEQ_ADJ_ORIG, CTA_SEQ_ADJ_REPLY = 1, 15, 16
CTA_TUPLE_PROTO = 2
CTA_PROTO_NUM, CTA_PROTO_SRC_PORT, CTA_PROTO_DST_PORT = 1, 2, 3


def attrs(buf):
    """type -> payload of the netlink attributes in buf"""
    out, off = {}, 0
    while off + 4 <= len(buf):
        alen, atype = struct.unpack_from("=HH", buf, off)
        if alen < 4:
            break
        out[atype & 0x3fff] = buf[off + 4:off + alen]
        off += (alen + 3) & ~3
    return out


def seqadj(buf):
    if buf is None:
        return "-"
    a = attrs(buf)
    vals = [struct.unpack("!i", a[k])[0] if k in a else 0 for k in (1, 2, 3)]
    vals[0] &= 0xffffffff
    return "%d,%d,%d" % tuple(vals)


def main():
    ports = {int(p) for p in sys.argv[1:]}
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    s.bind((0, 0))
    body = struct.pack("!BBH", socket.AF_INET, 0, 0)
    hdr = struct.pack("=IHHII", 16 + len(body),
                      (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET,
                      NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    s.send(hdr + body)
    while True:
        data = s.recv(1 << 16)
        off = 0
        while off + 16 <= len(data):
            mlen, mtype = struct.unpack_from("=IH", data, off)
            if mtype == NLMSG_DONE:
                return 0
            if mtype == NLMSG_ERROR:
                err = struct.unpack_from("=i", data, off + 16)[0]
                sys.stderr.write("ctnetlink error %d\n" % err)
                return 1
            a = attrs(data[off + 20:off + mlen])
            proto = attrs(attrs(a.get(CTA_TUPLE_ORIG, b"")).get(CTA_TUPLE_PROTO, b""))
            if proto.get(CTA_PROTO_NUM) == b"\x06":
                sp = struct.unpack("!H", proto[CTA_PROTO_SRC_PORT])[0]
                dp = struct.unpack("!H", proto[CTA_PROTO_DST_PORT])[0]
                if not ports or sp in ports or dp in ports:
                    print("sport=%d dport=%d orig=%s reply=%s" % (
                        sp, dp, seqadj(a.get(CTA_SEQ_ADJ_ORIG)),
                        seqadj(a.get(CTA_SEQ_ADJ_REPLY))))
            off += (mlen + 3) & ~3


if __name__ == "__main__":
    sys.exit(main())
