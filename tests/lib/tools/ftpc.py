#!/usr/bin/python3
"""ftplib client for the nf_ftpx tests: one RETR or STOR, then QUIT.

  ftpc.py --host H [--port P] [--user U] [--password W]
          [--mode pasv|epsv|port|eprt] [--tls none|explicit|implicit] [--ccc]
          [--timeout S] [--ignore-pasv-address]
          (get REMOTE LOCAL | put LOCAL REMOTE)

The control dialogue goes to stderr in curl's -v style ("> CMD", "< REPLY",
PASS masked), so one parser reads the logs of curl, lftp and this tool.
The 227 address is honoured (ftplib >= 3.10 would use the control
connection's peer instead and hide a missing NAT rewrite) unless
--ignore-pasv-address asks for ftplib's own default. EPSV and EPRT are
used on IPv4 too when asked. Data connections resume the control
connection's TLS session, as vsftpd's require_ssl_reuse=YES demands.
Exit status: 0 transfer complete, 1 failure, 2 usage.
"""
import argparse
import ftplib
import socket
import ssl
import sys


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


def make_class(base):
    class Client(base):
        trust_server_pasv_ipv4_address = True
        ignore_pasv_address = False
        xmode = "pasv"
        implicit = False
        tls_session = None

        # --- tracing -------------------------------------------------------
        def putline(self, line):
            shown = "PASS ****" if line.upper().startswith("PASS ") else line
            log("> " + shown)
            super().putline(line)

        def getmultiline(self):
            line = super().getmultiline()
            for part in line.split("\n"):
                log("< " + part)
            return line

        # --- implicit TLS: wrap before the greeting ------------------------
        def connect(self, host="", port=0, timeout=-999, source_address=None):
            if not self.implicit:
                return super().connect(host, port, timeout, source_address)
            if host:
                self.host = host
            if port > 0:
                self.port = port
            if timeout != -999:
                self.timeout = timeout
            if source_address is not None:
                self.source_address = source_address
            raw = socket.create_connection((self.host, self.port), self.timeout,
                                           source_address=self.source_address)
            self.af = raw.family
            self.sock = self.context.wrap_socket(raw, server_hostname=self.host)
            self.file = self.sock.makefile("r", encoding=self.encoding)
            self.welcome = self.getresp()
            return self.welcome

        # --- passive: PASV or EPSV on either family ------------------------
        def makepasv(self):
            if self.xmode == "pasv":
                resp = self.sendcmd("PASV")
                host, port = ftplib.parse227(resp)
                log("FTPX-GOT 227 %s %d" % (host, port))
                if self.ignore_pasv_address:
                    host = self.sock.getpeername()[0]
            else:
                resp = self.sendcmd("EPSV")
                host, port = ftplib.parse229(resp, self.sock.getpeername())
                log("FTPX-GOT 229 - %d" % port)
            return host, port

        # --- active: PORT or EPRT on either family -------------------------
        def makeport(self):
            sock = socket.create_server(("", 0), family=self.af, backlog=1)
            port = sock.getsockname()[1]
            host = self.sock.getsockname()[0]
            if self.xmode == "port":
                self.sendport(host, port)
                log("FTPX-GOT PORT %s %d" % (host, port))
            else:
                self.sendeprt(host, port)
                log("FTPX-GOT EPRT %s %d" % (host, port))
            sock.settimeout(self.timeout)
            return sock

        # --- data TLS with session resumption ------------------------------
        def ntransfercmd(self, cmd, rest=None):
            if not getattr(self, "_prot_p", False):
                return ftplib.FTP.ntransfercmd(self, cmd, rest)
            conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
            session = self.tls_session
            if session is None and isinstance(self.sock, ssl.SSLSocket):
                session = self.sock.session
            conn = self.context.wrap_socket(conn, server_hostname=self.host,
                                            session=session)
            log("* data TLS %s, session reused: %s" % (conn.version(), conn.session_reused))
            return conn, size

    return Client


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--user", default="anonymous")
    ap.add_argument("--password", default="ftpx@example.org")
    ap.add_argument("--mode", choices=("pasv", "epsv", "port", "eprt"), default="pasv")
    ap.add_argument("--tls", choices=("none", "explicit", "implicit"), default="none")
    ap.add_argument("--ccc", action="store_true")
    ap.add_argument("--timeout", type=float, default=15.0)
    ap.add_argument("--ignore-pasv-address", action="store_true")
    ap.add_argument("op", choices=("get", "put"))
    ap.add_argument("src")
    ap.add_argument("dst")
    a = ap.parse_args()

    port = a.port or (990 if a.tls == "implicit" else 21)
    if a.tls == "none":
        if a.ccc:
            ap.error("--ccc needs --tls")
        ftp = make_class(ftplib.FTP)(timeout=a.timeout)
    else:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ftp = make_class(ftplib.FTP_TLS)(context=ctx, timeout=a.timeout)
        ftp.implicit = a.tls == "implicit"
    ftp.xmode = a.mode
    ftp.ignore_pasv_address = a.ignore_pasv_address
    ftp.set_pasv(a.mode in ("pasv", "epsv"))

    try:
        log("* connecting to %s port %d" % (a.host, port))
        ftp.connect(a.host, port)
        ftp.login(a.user, a.password)
        if a.tls != "none":
            ftp.prot_p()
            if isinstance(ftp.sock, ssl.SSLSocket):
                log("* control TLS %s" % ftp.sock.version())
                ftp.tls_session = ftp.sock.session
            if a.ccc:
                ftp.ccc()
                log("* control channel cleared")
        if a.op == "get":
            with open(a.dst, "wb") as f:
                ftp.retrbinary("RETR " + a.src, f.write)
        else:
            with open(a.src, "rb") as f:
                ftp.storbinary("STOR " + a.dst, f)
        try:
            ftp.quit()
        except (OSError, EOFError, ftplib.Error):
            pass
    except (OSError, EOFError, ftplib.Error, ssl.SSLError) as e:
        log("* FAILED: %s: %s" % (type(e).__name__, e))
        return 1
    log("* transfer complete")
    return 0


if __name__ == "__main__":
    sys.exit(main())
