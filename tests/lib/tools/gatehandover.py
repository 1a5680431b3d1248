#!/usr/bin/python3
"""Two FTPS sessions of one client: the second's data connection after the
first, which holds the passive-range gates, has ended.

  gatehandover.py HOST PORT [--noop]

Session A logs in first (AUTH TLS, PROT P): the router's gates for this
client and server are A's. Session B logs in too; its gates cannot be made
while A's exist (same tuples), and A's admit B as well. B sends PASV; then
A quits, taking its gates along; then B connects to the port of its 227
(with --noop, B first sends NOOP on its control connection). Prints
"connected" or "timeout" and exits 0 or 1; the data transfer then runs to
the end (RETR 1k.bin) when connected.
"""
import ftplib
import re
import socket
import ssl
import sys
import time


def session(host, port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    f = ftplib.FTP_TLS(context=ctx, timeout=20)
    f.connect(host, port)
    f.auth()
    f.login()
    f.prot_p()
    return f


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    noop = "--noop" in sys.argv[3:]
    a = session(host, port)
    b = session(host, port)
    m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", b.sendcmd("PASV"))
    n = [int(x) for x in m.groups()]
    daddr, dport = "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]
    a.quit()
    if noop:
        # nf_ftpx retries deferred gates on the session's own packets, at
        # most ten times a second: B's PASV was the last try
        time.sleep(0.15)
        b.voidcmd("NOOP")
    try:
        d = socket.create_connection((daddr, dport), timeout=20)
    except OSError as e:
        print("timeout: B's data connection to %s:%d after A quit: %s" % (daddr, dport, e))
        return 1
    print("connected: B's data connection to %s:%d after A quit" % (daddr, dport))
    b.putcmd("RETR 1k.bin")
    resp = b.getresp()
    if not resp.startswith("1"):
        print("RETR refused: " + resp)
        return 1
    ds = b.context.wrap_socket(d, server_hostname=host, session=b.sock.session)
    got = b""
    while True:
        chunk = ds.recv(65536)
        if not chunk:
            break
        got += chunk
    ds.close()
    b.voidresp()
    b.quit()
    print("received %d bytes" % len(got))
    return 0 if len(got) == 1024 else 1


if __name__ == "__main__":
    sys.exit(main())
