#!/usr/bin/python3
"""A scripted FTP control-channel peer for precise helper tests.

Listens on ADDR PORT, accepts one control connection at a time, greets with
220, records every line it receives (exact bytes, one repr per line) to LOG,
and answers each command:
  PASV -> the reply given by --pasv (e.g. "227 Entering Passive Mode (10,0,2,2,195,80)")
  EPSV -> the reply given by --epsv
  anything else -> "200 ok"
--banner sends extra raw bytes after the 220 greeting (multi-line replies);
"<SEG>" in it splits it into separately sent TCP segments.
--listen-data PORT also opens a data listener that accepts one connection and
sends 'DATA-OK\\n', so a test can check an expectation really admits a
connection. Writes READY to LOG.ready when listening.
"""
import argparse, fcntl, socket, struct, sys, threading, time

ap = argparse.ArgumentParser()
ap.add_argument("addr"); ap.add_argument("port", type=int); ap.add_argument("log")
ap.add_argument("--pasv", default="227 Entering Passive Mode (127,0,0,1,195,80).")
ap.add_argument("--epsv", default="229 Entering Extended Passive Mode (|||50000|)")
ap.add_argument("--banner", default="")
ap.add_argument("--listen-data", type=int, default=0)
a = ap.parse_args()
fam = socket.AF_INET6 if ":" in a.addr else socket.AF_INET

def data_server():
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((a.addr, a.listen_data)); s.listen(4)
    while True:
        c, peer = s.accept()
        with open(a.log, "a") as f:
            f.write("DATA-CONN %s\n" % peer[0])
        c.sendall(b"DATA-OK\n"); c.close()

if a.listen_data:
    threading.Thread(target=data_server, daemon=True).start()

srv = socket.socket(fam, socket.SOCK_STREAM)
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind((a.addr, a.port)); srv.listen(8)
open(a.log + ".ready", "w").write("READY\n")
def serve(c):
    c.settimeout(120)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"220 fake ready\r\n")
    for part in a.banner.split("<SEG>"):
        end = time.monotonic() + 15
        # wait until the previous segment is acknowledged (SIOCOUTQ == 0)
        while struct.unpack("i", fcntl.ioctl(c.fileno(), 0x5411, b"\0" * 4))[0] and time.monotonic() < end:
            time.sleep(0.005)
        if part:
            c.sendall(part.encode().decode("unicode_escape").encode("latin1"))
    buf = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            buf += d
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                with lock, open(a.log, "a") as f:
                    f.write(repr(line) + "\n")
                cmd = line.strip().upper()
                if cmd.startswith(b"PASV"):
                    c.sendall(a.pasv.encode() + b"\r\n")
                elif cmd.startswith(b"EPSV"):
                    c.sendall(a.epsv.encode() + b"\r\n")
                elif cmd.startswith(b"QUIT"):
                    c.sendall(b"221 bye\r\n")
                else:
                    c.sendall(b"200 ok\r\n")
            if len(buf) > 1 << 20:
                buf = buf[-1024:]
    except OSError:
        pass
    c.close()

lock = threading.Lock()
while True:
    c, peer = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
