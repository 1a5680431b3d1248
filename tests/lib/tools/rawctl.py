#!/usr/bin/python3
"""Raw FTP control client: sends each argument as its own TCP segment.

Usage: rawctl.py [--extra N] ADDR PORT SEG [SEG...]
Each SEG is a Python-escaped byte string ("PO", "RT 10,0,0,2,4,1\\r\\n",
"\\x00"); "@N" means N bytes of 'A' (no newline); "#N" means N digits.
Segments are written one per send() with TCP_NODELAY, waiting until the
previous one has been acknowledged (SIOCOUTQ == 0), so they leave as separate
segments. After the last one it sends "NOOP\\r\\n" and requires an answer
within 20 s: a stalled control connection fails. Replies are counted as RFC
959 replies (a multi-line reply is one); --extra N expects N unsolicited
replies after the greeting (a scripted banner). Prints every reply line it
received, prefixed "REPLY: ", and exits 0 only if the connection stayed alive.
"""
import fcntl, socket, struct, sys, time

SIOCOUTQ = 0x5411

def unsent(s):
    return struct.unpack("i", fcntl.ioctl(s.fileno(), SIOCOUTQ, b"\0" * 4))[0]

def drained(s, limit=15.0):
    end = time.monotonic() + limit
    while unsent(s):
        if time.monotonic() > end:
            return False
        time.sleep(0.005)  # poll for the ACK
    return True

def seg(arg):
    if arg.startswith("@"):
        return b"A" * int(arg[1:])
    if arg.startswith("#"):
        return b"9" * int(arg[1:])
    return arg.encode().decode("unicode_escape").encode("latin1")

args = sys.argv[1:]
extra = 0
if args[0] == "--extra":
    extra = int(args[1]); args = args[2:]
addr, port = args[0], int(args[1])
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.settimeout(20)
s.connect((addr, port))
f = s.makefile("rb")
def reply():
    """Read one whole reply; print its lines. None when the peer closed."""
    first = f.readline()
    if not first:
        return None
    line = first.decode("latin1").rstrip()
    print("REPLY:", line)
    if len(line) >= 4 and line[:3].isdigit() and line[3] == "-":
        end = line[:3] + " "
        while True:
            nxt = f.readline()
            if not nxt:
                return None
            nxt = nxt.decode("latin1").rstrip()
            print("REPLY:", nxt)
            if nxt.startswith(end):
                break
    return line

reply()
sent = b""
for a in args[2:]:
    b = seg(a)
    sent += b
    s.sendall(b)
    if not drained(s):
        print("FAIL: segment not acknowledged (stalled)"); sys.exit(1)
s.sendall(b"NOOP\r\n")
sent += b"NOOP\r\n"
# the peer answers every line it receives: one reply per newline sent
want = sent.count(b"\n") + extra
try:
    for _ in range(want):
        if reply() is None:
            print("FAIL: connection closed"); sys.exit(1)
except socket.timeout:
    print("FAIL: no reply within 20 s (stalled control connection)"); sys.exit(1)
s.close()
print("ALIVE")
