#!/usr/bin/python3
"""Many concurrent FTP control sessions, synthetic on both ends.

  scale.py server ADDR PORT DATAADDR     answer 220, then every PASV with a
                                          227 for DATAADDR and a port of its
                                          own per connection; hold
  scale.py client HOST PORT N STATEFILE   open N sessions (greeting, PASV,
                                          227), hold them until STATEFILE.release
                                          exists; writes progress to STATEFILE

The client prints JSON: sessions set up, seconds, overall rate, the rate of
the second and of the last tenth (does setup slow down as the table fills?
the first tenth is left out: it ends the burst of the first connections)
and failures.
"""
import asyncio, json, os, sys, time

async def server(addr, port, daddr):
    n = [0]
    d = daddr.replace(".", ",")
    async def handle(r, w):
        n[0] += 1
        p = 20000 + n[0] % 40000
        w.write(b"220 scale ready\r\n")
        try:
            while True:
                line = await r.readline()
                if not line:
                    break
                if line[:4].upper() == b"PASV":
                    w.write(("227 Entering Passive Mode (%s,%d,%d).\r\n" % (d, p >> 8, p & 255)).encode())
                else:
                    w.write(b"200 ok\r\n")
        except OSError:
            pass
        w.close()
    srv = await asyncio.start_server(handle, addr, port, backlog=4096)
    print("scale server ready", flush=True)
    async with srv:
        await srv.serve_forever()

async def client(host, port, n, state):
    conns, fails, stamps = [], 0, []
    sem = asyncio.Semaphore(64)
    async def one():
        nonlocal fails
        async with sem:
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
                line = await asyncio.wait_for(r.readline(), 30)
                if not line.startswith(b"220"):
                    raise OSError("greeting %r" % line)
                w.write(b"PASV\r\n")
                line = await asyncio.wait_for(r.readline(), 30)
                if not line.startswith(b"227"):
                    raise OSError("PASV %r" % line)
                conns.append(w)
                stamps.append(time.monotonic())
            except (OSError, asyncio.TimeoutError):
                fails += 1
    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(n)))
    secs = time.monotonic() - t0
    stamps.sort()
    k = max(1, len(stamps) // 10)
    rate = lambda s: round((len(s) - 1) / (s[-1] - s[0]), 1) if len(s) > 1 and s[-1] > s[0] else None
    res = {"sessions": len(conns), "failed": fails, "seconds": round(secs, 2),
           "rate": round(len(conns) / secs, 1), "rate_first": rate(stamps[k:2 * k]),
           "rate_last": rate(stamps[-k:])}
    with open(state, "w") as f:
        f.write(json.dumps(res) + "\n")
    end = time.monotonic() + 600
    while not os.path.exists(state + ".release") and time.monotonic() < end:
        await asyncio.sleep(0.1)  # poll for the release file
    for w in conns:
        w.close()
    print(json.dumps(res), flush=True)

if sys.argv[1] == "server":
    asyncio.run(server(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
else:
    asyncio.run(client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]))
