#!/usr/bin/env python3
"""Send malformed generic netlink messages to the nf_ftpx family.

Usage: nlhammer.py OUT.tsv [--only-perm EXPECT]

Every message is built byte by byte (no library helps the sender stay
well-formed): unknown commands, attributes the policy rejects, wrong
lengths, missing and nested-wrong attributes, truncated headers, oversized
messages and a full server table. Each row names what was sent, the errno
(and extack message) expected, what came back, and pass/fail. A malformed
message must be refused with the expected errno and leave the server table
as it was; the table is read back (GET_SERVERS) after every refused SET.

--only-perm EXPECT: send each command once, well-formed, and expect EXPECT
(an errno name, or "ok") for all of them; for senders without
CAP_NET_ADMIN over the network namespace (EPERM), or with it in their own
user and network namespace (ok). Rows name the sender with --who.

Exit status 0 when every row passed, 1 otherwise.
"""
import errno
import socket
import struct
import sys

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLA_F_NESTED = 0x8000
GENL_ID_CTRL = 16
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2

# nf_ftpx/uapi_nf_ftpx.h
CMD_GET_STATS, CMD_SET_SERVER, CMD_DEL_SERVER, CMD_GET_SERVERS, CMD_FLUSH = 1, 2, 3, 4, 5
A_STATS, A_SERVER = 1, 2
S_ADDR, S_PASV_MIN, S_PASV_MAX, S_MASQ, S_INTERNAL = 1, 2, 3, 4, 5
P_PREFIX = 1
MAX_SERVERS = 64
MAX_INTERNAL = 16

V4 = bytes([192, 0, 2, 10])
V4B = bytes([192, 0, 2, 11])
V6 = bytes.fromhex("20010db8000000000000000000000010")


def nla(t, payload, nested=False):
    ln = 4 + len(payload)
    pad = (4 - ln % 4) % 4
    return struct.pack("=HH", ln, t | (NLA_F_NESTED if nested else 0)) + payload + b"\0" * pad


def nest(t, *parts):
    return nla(t, b"".join(parts), nested=True)


def u16(t, v):
    return nla(t, struct.pack("=H", v))


def server(*parts):
    return nest(A_SERVER, *parts)


def prefix(addr, plen):
    return addr + bytes([plen])


def internal(*prefixes):
    return nest(S_INTERNAL, *[nest(i + 1, nla(P_PREFIX, p)) for i, p in enumerate(prefixes)])


class Genl:
    def __init__(self):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
        self.s.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.s.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        self.s.bind((0, 0))
        self.s.settimeout(2.0)
        self.seq = 1
        self.fam = None

    def send_raw(self, data):
        self.s.send(data)

    def msg(self, ntype, cmd, attrs=b"", flags=NLM_F_REQUEST | NLM_F_ACK, version=1,
            genlhdr=True, len_delta=0):
        self.seq += 1
        body = (struct.pack("=BBH", cmd, version, 0) if genlhdr else b"") + attrs
        hdr = struct.pack("=IHHII", 16 + len(body) + len_delta, ntype, flags, self.seq, 0)
        return hdr + body

    def replies(self):
        """Messages answering the last request: (errno or None, extack, payloads)."""
        payloads = []
        while True:
            try:
                data = self.s.recv(1 << 17)
            except socket.timeout:
                return ("no reply", "", payloads)
            off = 0
            while off + 16 <= len(data):
                ln, typ, flags, seq, _ = struct.unpack_from("=IHHII", data, off)
                if ln < 16:
                    return ("bad reply", "", payloads)
                body = data[off + 16:off + ln]
                off += (ln + 3) & ~3
                if seq != self.seq:
                    continue
                if typ == NLMSG_ERROR:
                    err = -struct.unpack_from("=i", body, 0)[0]
                    ext = ""
                    # capped: the request's header only (16 bytes) follows
                    a = 4 + 16
                    while a + 4 <= len(body):
                        aln, aty = struct.unpack_from("=HH", body, a)
                        if aln < 4:
                            break
                        if aty == NLMSGERR_ATTR_MSG:
                            ext = body[a + 4:a + aln].split(b"\0")[0].decode(errors="replace")
                        a += (aln + 3) & ~3
                    return (err, ext, payloads)
                if typ == NLMSG_DONE:
                    return (0, "", payloads)
                payloads.append(body)

    def family(self):
        m = self.msg(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, nla(CTRL_ATTR_FAMILY_NAME, b"nf_ftpx\0"))
        self.send_raw(m)
        err, ext, pl = self.replies()
        if err not in (0,) or not pl:
            raise SystemExit(f"nlhammer: family nf_ftpx not found ({err} {ext})")
        a = 4
        body = pl[0]
        while a + 4 <= len(body):
            aln, aty = struct.unpack_from("=HH", body, a)
            if aty == CTRL_ATTR_FAMILY_ID:
                self.fam = struct.unpack_from("=H", body, a + 4)[0]
            a += (aln + 3) & ~3
        return self.fam

    def request(self, cmd, attrs=b"", **kw):
        self.send_raw(self.msg(self.fam, cmd, attrs, **kw))
        return self.replies()

    def servers(self):
        """Number of server entries in the kernel's table."""
        err, ext, pl = self.request(CMD_GET_SERVERS)
        if err != 0 or not pl:
            raise SystemExit(f"nlhammer: GET_SERVERS failed: {err} {ext}")
        body, a, n = pl[0], 4, 0
        while a + 4 <= len(body):
            aln, aty = struct.unpack_from("=HH", body, a)
            if aln < 4:
                break
            if aty & ~NLA_F_NESTED == A_SERVER:
                n += 1
            a += (aln + 3) & ~3
        return n


def ename(e):
    if e == 0:
        return "ok"
    if isinstance(e, str):
        return e
    if e == errno.EOPNOTSUPP:  # errorcode names 95 ENOTSUP on Linux
        return "EOPNOTSUPP"
    return errno.errorcode.get(e, str(e))


def esc(s):
    return s.replace("\t", " ").replace("\n", " ")


def main():
    out = sys.argv[1]
    who = "root"
    perm = None
    args = sys.argv[2:]
    while args:
        if args[0] == "--only-perm":
            perm = args[1]
            args = args[2:]
        elif args[0] == "--who":
            who = args[1]
            args = args[2:]
        else:
            raise SystemExit(f"nlhammer: unknown argument {args[0]}")
    g = Genl()
    g.family()
    rows = []
    bad = 0

    def row(rid, what, want, got, ext, keep_table=None, msg=None):
        nonlocal bad
        ok = ename(got) == want
        if msg is not None:
            ok = ok and msg in ext
            want = f'{want}, message with "{msg}"'
        if keep_table is not None:
            now = g.servers()
            if now != keep_table:
                ok = False
                ext = f"{ext}; server table changed {keep_table} -> {now}"
        verdict = "pass" if ok else "FAIL"
        if not ok:
            bad += 1
        outcome = ename(got) + (f' "{ext}"' if ext else "")
        rows.append((rid, what, want, outcome, verdict))
        print(f"{verdict}: netlink {rid}: {what}: want {want}, got {outcome}")

    if perm is not None:
        for cmd, name, attrs in ((CMD_GET_STATS, "GET_STATS", b""),
                                 (CMD_SET_SERVER, "SET_SERVER", server(nla(S_ADDR, V4))),
                                 (CMD_DEL_SERVER, "DEL_SERVER", server(nla(S_ADDR, V4))),
                                 (CMD_GET_SERVERS, "GET_SERVERS", b""),
                                 (CMD_FLUSH, "FLUSH", b"")):
            err, ext, _ = g.request(cmd, attrs)
            # DEL after a refused SET finds nothing: ENOENT is the allowed answer
            want = perm
            if perm == "ok" and cmd == CMD_DEL_SERVER:
                want = "ok"
            row(f"perm-{who}-{name.lower()}", f"{name} from {who}", want, err, ext)
        write(out, rows)
        return 1 if bad else 0

    g.request(CMD_FLUSH)

    def set_bad(rid, what, attrs, want="EINVAL", msg=None):
        before = g.servers()
        err, ext, _ = g.request(CMD_SET_SERVER, attrs)
        row(rid, what, want, err, ext, keep_table=before, msg=msg)
        if g.servers() != before:  # a wrongly accepted entry must not spoil the next rows
            g.request(CMD_FLUSH)

    # commands
    for cmd, what in ((0, "command 0 (UNSPEC)"), (6, "command 6 (one past the last)"),
                      (255, "command 255")):
        err, ext, _ = g.request(cmd)
        row(f"cmd-{cmd}", what, "EOPNOTSUPP", err, ext)
    err, ext, _ = g.request(CMD_GET_STATS, flags=NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
    row("cmd-dump", "GET_STATS with NLM_F_DUMP (no dump op)", "EOPNOTSUPP", err, ext)
    err, ext, _ = g.request(CMD_GET_STATS, nla(A_STATS, b"\0" * 8))
    row("stats-attr", "GET_STATS carrying FTPX_A_STATS (reply-only, NLA_REJECT)", "EINVAL", err, ext)
    err, ext, _ = g.request(CMD_GET_STATS, nla(3, b"\0" * 4))
    row("attr-unknown", "attribute type 3 (above FTPX_A_MAX)", "EINVAL", err, ext)
    err, ext, _ = g.request(CMD_GET_STATS, nla(0x7fff, b"\0" * 4))
    row("attr-unknown-big", "attribute type 0x7fff", "EINVAL", err, ext)

    # framing
    g.send_raw(g.msg(g.fam, CMD_GET_STATS, genlhdr=False))
    err, ext, _ = g.replies()
    row("frame-no-genlhdr", "nlmsghdr only, no genl header", "EINVAL", err, ext)
    g.send_raw(g.msg(g.fam, CMD_GET_STATS)[:18])
    err, ext, _ = g.replies()
    row("frame-short-buf", "18-byte datagram (half a genl header)", "no reply", err, ext)
    g.send_raw(g.msg(g.fam, CMD_GET_STATS, len_delta=100))
    err, ext, _ = g.replies()
    row("frame-len-over", "nlmsg_len 100 bytes past the datagram", "no reply", err, ext)
    m = bytearray(g.msg(g.fam, CMD_SET_SERVER, server(nla(S_ADDR, V4))))
    struct.pack_into("=H", m, 20, 200)  # first attribute claims 200 bytes
    g.send_raw(bytes(m))
    err, ext, _ = g.replies()
    row("frame-nla-over", "attribute length beyond the message", "EINVAL", err, ext)
    m = bytearray(g.msg(g.fam, CMD_SET_SERVER, server(nla(S_ADDR, V4))))
    struct.pack_into("=H", m, 20, 2)  # attribute length below its header
    g.send_raw(bytes(m))
    err, ext, _ = g.replies()
    row("frame-nla-under", "attribute length 2 (below its own header)", "EINVAL", err, ext)
    big = b"".join(nest(A_SERVER) for _ in range(16000))
    before = g.servers()
    err, ext, _ = g.request(CMD_SET_SERVER, big)
    row("frame-oversized", "SET_SERVER of 64000 bytes: 16000 empty server attributes",
        "EINVAL", err, ext, keep_table=before)

    # SET_SERVER attribute by attribute
    set_bad("set-empty", "SET_SERVER without attributes", b"")
    set_bad("set-server-flat", "FTPX_A_SERVER not a nest (raw 4 bytes)", nla(A_SERVER, V4))
    set_bad("set-no-addr", "server nest without FTPX_S_ADDR", server(u16(S_PASV_MIN, 1000), u16(S_PASV_MAX, 1001)))
    # the policy bounds the length to 4..16 (ERANGE); the handler wants 4 or 16
    for n in (0, 1, 3, 17, 64, 1000):
        set_bad(f"set-addr-{n}", f"FTPX_S_ADDR of {n} bytes", server(nla(S_ADDR, b"\x01" * n)), want="ERANGE")
    for n in (5, 8, 15):
        set_bad(f"set-addr-{n}", f"FTPX_S_ADDR of {n} bytes", server(nla(S_ADDR, b"\x01" * n)),
                msg="4 or 16 bytes")
    set_bad("set-addr-60000", "FTPX_S_ADDR of 60000 bytes", server(nla(S_ADDR, b"\x01" * 60000)), want="ERANGE")
    set_bad("set-pasv-zero", "FTPX_S_PASV_MIN 0", server(nla(S_ADDR, V4), u16(S_PASV_MIN, 0), u16(S_PASV_MAX, 10)),
            want="ERANGE")
    set_bad("set-pasv-min-only", "FTPX_S_PASV_MIN without MAX", server(nla(S_ADDR, V4), u16(S_PASV_MIN, 1000)))
    set_bad("set-pasv-max-only", "FTPX_S_PASV_MAX without MIN", server(nla(S_ADDR, V4), u16(S_PASV_MAX, 1000)))
    set_bad("set-pasv-order", "passive range 2000-1000", server(nla(S_ADDR, V4), u16(S_PASV_MIN, 2000), u16(S_PASV_MAX, 1000)))
    set_bad("set-pasv-1byte", "FTPX_S_PASV_MIN of 1 byte", server(nla(S_ADDR, V4), nla(S_PASV_MIN, b"\x01"), u16(S_PASV_MAX, 1000)))
    set_bad("set-pasv-4bytes", "FTPX_S_PASV_MIN of 4 bytes", server(nla(S_ADDR, V4), nla(S_PASV_MIN, b"\x01\0\0\0"), u16(S_PASV_MAX, 1000)))
    set_bad("set-masq-family", "IPv4 server, 16-byte masquerade address", server(nla(S_ADDR, V4), nla(S_MASQ, V6)))
    set_bad("set-masq-family6", "IPv6 server, 4-byte masquerade address", server(nla(S_ADDR, V6), nla(S_MASQ, V4)))
    for n in (0, 3, 17):
        set_bad(f"set-masq-{n}", f"FTPX_S_MASQ of {n} bytes", server(nla(S_ADDR, V4), nla(S_MASQ, b"\x02" * n)),
                want="ERANGE")
    # inside the policy's range but no address: the message must say so
    for n in (5, 15):
        set_bad(f"set-masq-{n}", f"FTPX_S_MASQ of {n} bytes", server(nla(S_ADDR, V4), nla(S_MASQ, b"\x02" * n)),
                msg="4 or 16 bytes")
    set_bad("set-unknown-s", "server nest with attribute type 6 (above FTPX_S_MAX)", server(nla(S_ADDR, V4), nla(6, b"\0" * 4)))
    set_bad("set-internal-flat", "FTPX_S_INTERNAL not a nest", server(nla(S_ADDR, V4), nla(S_INTERNAL, prefix(V4, 24))))
    set_bad("set-internal-no-prefix", "internal entry without FTPX_P_PREFIX",
            server(nla(S_ADDR, V4), nest(S_INTERNAL, nest(1, b""))), msg="prefix")
    set_bad("set-internal-entry-flat", "internal entry that is not a nest",
            server(nla(S_ADDR, V4), nest(S_INTERNAL, nla(1, prefix(V4, 24)))))
    set_bad("set-internal-unknown", "internal entry with attribute type 2 (above FTPX_P_MAX)",
            server(nla(S_ADDR, V4), nest(S_INTERNAL, nest(1, nla(P_PREFIX, prefix(V4, 24)), nla(2, b"\0" * 4)))))
    for n in (0, 4, 18, 40):
        set_bad(f"set-prefix-{n}", f"FTPX_P_PREFIX of {n} bytes", server(nla(S_ADDR, V4), internal(b"\x0a" * n)),
                want="ERANGE")
    for n in (6, 16):
        set_bad(f"set-prefix-{n}", f"FTPX_P_PREFIX of {n} bytes", server(nla(S_ADDR, V4), internal(b"\x0a" * n)),
                msg="4 or 16 address bytes")
    set_bad("set-prefix-len4", "IPv4 prefix length 33", server(nla(S_ADDR, V4), internal(prefix(V4, 33))))
    set_bad("set-prefix-len6", "IPv6 prefix length 129", server(nla(S_ADDR, V4), internal(prefix(V6, 129))))
    set_bad("set-prefix-255", "IPv4 prefix length 255", server(nla(S_ADDR, V4), internal(prefix(V4, 255))))
    set_bad("set-prefix-17", f"{MAX_INTERNAL + 1} internal prefixes",
            server(nla(S_ADDR, V4), internal(*[prefix(bytes([10, i, 0, 0]), 16) for i in range(MAX_INTERNAL + 1)])),
            want="E2BIG")

    # well-formed, as a control: these must be accepted
    g.request(CMD_FLUSH)
    before = g.servers()
    err, ext, _ = g.request(CMD_SET_SERVER, server(nla(S_ADDR, V4), u16(S_PASV_MIN, 30000), u16(S_PASV_MAX, 30100),
                                                   nla(S_MASQ, V4B), internal(prefix(bytes([10, 0, 0, 0]), 8))))
    row("set-valid", "well-formed IPv4 entry (control)", "ok", err, ext)
    row("set-valid-table", "table holds one entry more after it", "ok",
        0 if g.servers() == before + 1 else "table unchanged", "")
    err, ext, _ = g.request(CMD_SET_SERVER, server(nla(S_ADDR, V4), nla(S_ADDR, V4B)))
    row("set-dup-addr", "two FTPX_S_ADDR (netlink: the last one counts)", "ok", err, ext)
    g.request(CMD_FLUSH)

    # DEL_SERVER
    err, ext, _ = g.request(CMD_DEL_SERVER)
    row("del-empty", "DEL_SERVER without attributes", "EINVAL", err, ext)
    err, ext, _ = g.request(CMD_DEL_SERVER, server(nla(S_ADDR, V4)))
    row("del-missing", "DEL_SERVER of an address not in the table", "ENOENT", err, ext)
    err, ext, _ = g.request(CMD_DEL_SERVER, server(nla(S_ADDR, b"\x01" * 7)))
    row("del-addr-7", "DEL_SERVER with a 7-byte address", "EINVAL", err, ext)

    # table full
    errs = set()
    for i in range(MAX_SERVERS):
        err, ext, _ = g.request(CMD_SET_SERVER, server(nla(S_ADDR, bytes([198, 18, i // 256, i % 256]))))
        errs.add(ename(err))
    row("table-fill", f"{MAX_SERVERS} distinct servers", "ok", 0 if errs == {"ok"} else ",".join(sorted(errs)), "")
    set_bad("table-full", f"server number {MAX_SERVERS + 1}", server(nla(S_ADDR, bytes([198, 19, 0, 1]))), want="ENOSPC")
    err, ext, _ = g.request(CMD_SET_SERVER, server(nla(S_ADDR, bytes([198, 18, 0, 5])), u16(S_PASV_MIN, 5000), u16(S_PASV_MAX, 5001)))
    row("table-full-replace", "replacing an entry of the full table", "ok", err, ext)
    err, ext, _ = g.request(CMD_FLUSH)
    row("flush", "FLUSH", "ok", err, ext)
    row("flush-table", "table empty after FLUSH", "ok", 0 if g.servers() == 0 else "not empty", "")

    # the socket still works, and so does the family
    err, ext, pl = g.request(CMD_GET_STATS)
    row("after", "GET_STATS after all of the above", "ok", err if pl or err else "no payload", ext)
    write(out, rows)
    return 1 if bad else 0


def write(out, rows):
    with open(out, "a") as f:
        for r in rows:
            f.write("\t".join(["netlink"] + [esc(str(x)) for x in r]) + "\n")


if __name__ == "__main__":
    sys.exit(main())
