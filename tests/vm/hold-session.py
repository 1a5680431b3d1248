#!/usr/bin/python3
"""An FTPS session kept open for the hint cases (tests/vm/5*.sh).

  hold-session.py HOST PORT DIR [explicit|implicit|plain]

Logs in (anonymous), protects data (PROT P) unless plain, writes the
control connection's local port to DIR/cport, then serves requests: for
each N = 1, 2, ... it waits for the file DIR/goN (content: a file name to
RETR, or "quit"), transfers it with EPSV and writes "ok BYTES" or
"fail REASON" to DIR/resN. While it waits it sends NOOP every 15 s, as
FTP clients' keepalives do: the test servers end a session idle for 60 s
(idle_session_timeout in tests/lib/ftp.sh), and on a slow kernel the
checks a case runs between two transfers take longer than that. Data
connections resume the control connection's TLS session (vsftpd's require_ssl_reuse). "plain" sends no
AUTH at all: a cleartext control connection that just stays open.
"""
import ftplib
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib", "tools"))
import ssl  # noqa: E402
from ftpc import make_class  # noqa: E402


def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def wait_for(path, keepalive=None):
    last = time.monotonic()
    while not os.path.exists(path):
        time.sleep(0.05)  # poll: the test writes it when it wants
        if keepalive and time.monotonic() - last >= 15:
            keepalive()
            last = time.monotonic()
    with open(path) as f:
        return f.read().strip()


def main():
    host, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    tls = sys.argv[4] if len(sys.argv) > 4 and sys.argv[4] else "explicit"
    if tls == "plain":
        s = socket.create_connection((host, port), timeout=20)
        s.recv(512)  # the banner: the helper has seen the server speak
        put(os.path.join(d, "cport"), str(s.getsockname()[1]))
        wait_for(os.path.join(d, "go1"))
        return 0
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ftp = make_class(ftplib.FTP_TLS)(context=ctx, timeout=20)
    ftp.implicit = tls == "implicit"
    ftp.xmode = "epsv"
    ftp.connect(host, port)
    ftp.login("anonymous", "ftpx@example.org")
    ftp.prot_p()
    ftp.tls_session = ftp.sock.session
    put(os.path.join(d, "cport"), str(ftp.sock.getsockname()[1]))
    gone = []  # why the session ended while it waited, if it did

    def keepalive():
        if gone:
            return
        try:
            ftp.voidcmd("NOOP")
        except (OSError, EOFError, ftplib.Error) as e:
            gone.append("keepalive %s: %s" % (type(e).__name__, e))

    n = 0
    while True:
        n += 1
        what = wait_for(os.path.join(d, "go%d" % n), keepalive)
        if what == "quit":
            break
        if gone:
            put(os.path.join(d, "res%d" % n), "fail " + gone[0])
            continue
        got = bytearray()
        try:
            ftp.retrbinary("RETR " + what, got.extend)
            res = "ok %d" % len(got)
        except (OSError, EOFError, ftplib.Error) as e:
            res = "fail %s: %s" % (type(e).__name__, e)
        put(os.path.join(d, "res%d" % n), res)
    try:
        ftp.quit()
    except (OSError, EOFError, ftplib.Error):
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
