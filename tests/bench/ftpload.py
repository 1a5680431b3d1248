#!/usr/bin/python3
"""FTP session load: CLIENTS concurrent clients, each running whole sessions
back to back for SECONDS: connect, USER/PASS, TYPE I, PASV or EPSV, RETR of
FILE (checked against SIZE bytes and SHA256), QUIT. A PASV reply's address
is honoured, so a router that does not rewrite it makes the session fail.

  ftpload.py HOST PORT --clients N --seconds S --file 1k.bin --size 1024
             --sha256 HEX [--mode pasv|epsv] [--user U --password P]

Prints one JSON object: ok, failed, seconds, rate (complete sessions per
second), p50_ms/p99_ms (session duration) and the first error seen.
"""
import argparse, asyncio, hashlib, json, re, time

ap = argparse.ArgumentParser()
ap.add_argument("host"); ap.add_argument("port", type=int)
ap.add_argument("--clients", type=int, default=1)
ap.add_argument("--seconds", type=float, default=10)
ap.add_argument("--file", default="1k.bin")
ap.add_argument("--size", type=int, required=True)
ap.add_argument("--sha256", required=True)
ap.add_argument("--mode", default="pasv", choices=["pasv", "epsv"])
ap.add_argument("--user", default="anonymous")
ap.add_argument("--password", default="ftpx@example.org")
ap.add_argument("--timeout", type=float, default=20)
a = ap.parse_args()

class Fail(Exception):
    pass

async def reply(r):
    """One (possibly multi-line) reply: (code, last line)."""
    line = (await r.readline()).decode("latin1")
    if len(line) < 4:
        raise Fail("connection closed, last reply %r" % line)
    code = line[:3]
    if line[3] == "-":
        while True:
            line = (await r.readline()).decode("latin1")
            if not line:
                raise Fail("closed inside a multi-line reply")
            if line.startswith(code + " "):
                break
    return int(code), line.strip()

async def cmd(w, r, text, want):
    w.write(text.encode() + b"\r\n")
    code, line = await reply(r)
    if code // 100 != want:
        raise Fail("%s -> %s" % (text.split()[0], line))
    return line

async def session():
    r, w = await asyncio.open_connection(a.host, a.port)
    try:
        code, line = await reply(r)
        if code != 220:
            raise Fail("greeting " + line)
        w.write(("USER %s\r\n" % a.user).encode())
        code, line = await reply(r)
        if code == 331:
            await cmd(w, r, "PASS " + a.password, 2)
        elif code != 230:  # vsftpd with no_anon_password logs in at once
            raise Fail("USER -> " + line)
        await cmd(w, r, "TYPE I", 2)
        if a.mode == "pasv":
            line = await cmd(w, r, "PASV", 2)
            m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", line)
            if not m:
                raise Fail("227 without address: " + line)
            n = [int(x) for x in m.groups()]
            dhost, dport = "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]
        else:
            line = await cmd(w, r, "EPSV", 2)
            m = re.search(r"\|\|\|(\d+)\|", line)
            if not m:
                raise Fail("229 without port: " + line)
            dhost, dport = a.host, int(m.group(1))
        dr, dw = await asyncio.open_connection(dhost, dport)
        w.write(("RETR %s\r\n" % a.file).encode())
        code, line = await reply(r)
        if code // 100 != 1:
            raise Fail("RETR -> " + line)
        data = await dr.read(-1)
        dw.close()
        code, line = await reply(r)
        if code != 226:
            raise Fail("after RETR: " + line)
        if len(data) != a.size or hashlib.sha256(data).hexdigest() != a.sha256:
            raise Fail("data: %d bytes, checksum mismatch" % len(data))
        await cmd(w, r, "QUIT", 2)
    finally:
        w.close()

async def worker(end, res):
    while True:  # at least one session per client
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(session(), a.timeout)
            res["dur"].append(time.monotonic() - t0)
        except (Fail, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError) as e:
            res["failed"] += 1
            if not res["error"]:
                res["error"] = "%s: %s" % (type(e).__name__, e)
        if time.monotonic() >= end:
            break

async def main():
    res = {"dur": [], "failed": 0, "error": ""}
    t0 = time.monotonic()
    end = t0 + a.seconds
    await asyncio.gather(*(worker(end, res) for _ in range(a.clients)))
    secs = time.monotonic() - t0
    d = sorted(res["dur"])
    pct = lambda p: round(d[min(len(d) - 1, int(p * len(d)))] * 1000, 1) if d else None
    print(json.dumps({"ok": len(d), "failed": res["failed"], "seconds": round(secs, 2),
                      "rate": round(len(d) / secs, 2), "p50_ms": pct(0.5),
                      "p99_ms": pct(0.99), "error": res["error"]}))

asyncio.run(main())
