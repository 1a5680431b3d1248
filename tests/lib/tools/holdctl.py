#!/usr/bin/python3
"""Hold an FTP control connection open across an event.

Usage: holdctl.py ADDR PORT STATEDIR LINE [LINE...]
Connects, sends each LINE (escaped, e.g. "PORT 10,0,1,2,4,1\\r\\n") and reads
one reply per line, then creates STATEDIR/ready and polls until STATEDIR/go
exists (at most 120 s). Then it sends NOOP and requires a reply: prints ALIVE
and exits 0 if the connection survived whatever happened meanwhile.
"""
import os, socket, sys, time

addr, port, state = sys.argv[1], int(sys.argv[2]), sys.argv[3]
fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
s = socket.create_connection((addr, port), timeout=30)
f = s.makefile("rb")
print("REPLY:", f.readline().decode("latin1").rstrip(), flush=True)
for arg in sys.argv[4:]:
    s.sendall(arg.encode().decode("unicode_escape").encode("latin1"))
    print("REPLY:", f.readline().decode("latin1").rstrip(), flush=True)
open(os.path.join(state, "ready"), "w").close()
end = time.monotonic() + 120
while not os.path.exists(os.path.join(state, "go")):
    if time.monotonic() > end:
        print("FAIL: never told to go on"); sys.exit(1)
    time.sleep(0.05)  # poll for the go file
s.sendall(b"NOOP\r\n")
line = f.readline()
if not line:
    print("FAIL: connection closed"); sys.exit(1)
print("REPLY:", line.decode("latin1").rstrip())
print("ALIVE")
