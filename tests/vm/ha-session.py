#!/usr/bin/python3
"""One FTP session across a router failover (tests/vm/85-ha-*.sh).

  ha-session.py HOST PORT DIR none|explicit|implicit full|short|late

Logs in (anonymous; TLS: PROT P, data connections resume the control
connection's TLS session), then:
  t1  RETR 64k.bin over PASV (before the failover; not in "late")
  pre PASV only (full): the reply, and with it the expectation, comes
      before the failover; writes DIR/pasv and waits
then writes DIR/ready and waits for DIR/go (the failover is done), and:
  t2  connects to the address of the "pre" reply and RETRs 64k.bin
      (full): the data connection needs the expectation the backup got
      from conntrackd
  t3  RETR 1k.bin over PASV: the command and reply pass the backup
  t4  STOR DIR/up.bin as upload/ha-NAME.bin over EPSV (full; NAME: the
      last component of DIR)
Each step appends "NAME ok SHA256 BYTES" or "NAME fail REASON" to DIR/res.
The control dialogue goes to DIR/log's stderr in curl's -v style.
"""
import ftplib
import hashlib
import os
import socket
import ssl
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib", "tools"))
from ftpc import log, make_class  # noqa: E402

ERRORS = (OSError, EOFError, ftplib.Error, ssl.SSLError)


def result(d, name, text):
    log("* %s %s" % (name, text))
    with open(os.path.join(d, "res"), "a") as f:
        f.write("%s %s\n" % (name, text))


def wait_for(path):
    while not os.path.exists(path):
        time.sleep(0.05)  # poll: the test writes it when it wants


def retr(ftp, d, name, fname, xmode):
    got = bytearray()
    ftp.xmode = xmode
    try:
        ftp.retrbinary("RETR " + fname, got.extend)
    except ERRORS as e:
        result(d, name, "fail %s: %s" % (type(e).__name__, e))
        return False
    result(d, name, "ok %s %d" % (hashlib.sha256(got).hexdigest(), len(got)))
    return True


def retr_from(ftp, d, name, fname, host, port):
    """RETR over a data connection to an address given earlier."""
    got = bytearray()
    try:
        conn = socket.create_connection((host, port), ftp.timeout)
        ftp.sendcmd("TYPE I")
        resp = ftp.sendcmd("RETR " + fname)
        if not resp.startswith("150") and not resp.startswith("125"):
            raise ftplib.error_reply(resp)
        if getattr(ftp, "_prot_p", False):
            conn = ftp.context.wrap_socket(conn, server_hostname=ftp.host,
                                           session=ftp.tls_session)
        while True:
            b = conn.recv(65536)
            if not b:
                break
            got.extend(b)
        if isinstance(conn, ssl.SSLSocket):
            conn.unwrap()
        conn.close()
        ftp.voidresp()
    except ERRORS as e:
        result(d, name, "fail %s: %s" % (type(e).__name__, e))
        return False
    result(d, name, "ok %s %d" % (hashlib.sha256(got).hexdigest(), len(got)))
    return True


def main():
    host, port, d, tls, plan = sys.argv[1:6]
    port = int(port)
    # a short session's last step is expected to time out (85-ha.sh: b)
    tmo = 12 if plan == "full" else 6
    if tls == "none":
        ftp = make_class(ftplib.FTP)(timeout=tmo)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ftp = make_class(ftplib.FTP_TLS)(context=ctx, timeout=tmo)
        ftp.implicit = tls == "implicit"
    ftp.set_pasv(True)
    try:
        ftp.connect(host, port)
        ftp.login("anonymous", "ftpx@example.org")
        if tls != "none":
            ftp.prot_p()
            ftp.tls_session = ftp.sock.session
    except ERRORS as e:
        result(d, "login", "fail %s: %s" % (type(e).__name__, e))
        return 1
    with open(os.path.join(d, "cport"), "w") as f:
        f.write("%d\n" % ftp.sock.getsockname()[1])
    if plan != "late":
        retr(ftp, d, "t1", "64k.bin", "pasv")
    pre = None
    if plan == "full":
        try:
            pre = ftplib.parse227(ftp.sendcmd("PASV"))
            with open(os.path.join(d, "pasv"), "w") as f:
                f.write("%s %d\n" % pre)
        except ERRORS as e:
            result(d, "pre", "fail %s: %s" % (type(e).__name__, e))
    with open(os.path.join(d, "ready"), "w") as f:
        f.write("1\n")
    wait_for(os.path.join(d, "go"))
    if pre:
        retr_from(ftp, d, "t2", "64k.bin", pre[0], pre[1])
    retr(ftp, d, "t3", "1k.bin", "pasv")
    if plan == "full":
        ftp.xmode = "epsv"
        try:
            with open(os.path.join(d, "up.bin"), "rb") as f:
                ftp.storbinary("STOR upload/ha-%s.bin" % os.path.basename(d), f)
            result(d, "t4", "ok")
        except ERRORS as e:
            result(d, "t4", "fail %s: %s" % (type(e).__name__, e))
    try:
        ftp.quit()
    except ERRORS:
        pass
    with open(os.path.join(d, "done"), "w") as f:
        f.write("1\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
