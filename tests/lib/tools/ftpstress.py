#!/usr/bin/python3
"""Many concurrent FTP and FTPS sessions, with aborts, resets and silence.

  ftpstress.py --host H --plain-port P --tls-port P --root DIR --dir DIR
               [--n N] [--mix KIND=WEIGHT,...] [--seed S] [--timeout S]
               [--client-addr A] [--ramp S | --rate R] [--together --spread S]

One asyncio task per session, all started at once (N connections open
together), spread over --ramp seconds or started --rate per second. Each
session draws a kind from the mix:

  plain-pasv   login, PASV, RETR a file, check its SHA-256, QUIT
  plain-port   the same in active mode (PORT, a listener in this process)
  ftps-pasv    AUTH TLS, PBSZ 0, PROT P, PASV, RETR over TLS, check, QUIT
  abort        RETR the 1 MiB file, ABOR after the first chunk, QUIT
  reset        login, PASV, then a TCP reset (SO_LINGER 0) on the control
               connection: a pending data expectation and no FIN
  hold-login   login, then silence until DIR/release appears (or --timeout)
  hold-pasv    login, PASV, then silence (the expectation stays pending)
  hold-ftps    AUTH TLS, login, PROT P, then NOOP once a second (the
               session's passive-range gates)
  churn        plain PASV+RETR in a loop until DIR/release: expectations
               are created and consumed while the case unloads the module;
               a failure after the release request does not count

The kinds that complete (plain-*, ftps-pasv) must transfer the right bytes:
a checksum mismatch or a failure counts as a failure. abort and reset only
have to end. Held sessions write DIR/held once every held session is in
place and everything else has ended; the final report is DIR/report.json
(per kind: sessions, ok, failed, first errors) and the exit status is 0
when no completing session failed.

--together makes every session, whatever its kind, first connect and log in
(TLS for the FTPS kinds) and then wait until all N are logged in at once:
DIR/together (JSON: logged in, control connections open, seconds) says so,
and the sessions go on when DIR/go appears (the caller counts what the
router holds meanwhile) or --hold seconds passed; each then starts its kind's
work after a random delay of up to --spread seconds. A session that failed
before the barrier counts as a failure of its kind and does not hold it up.
"""
import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import re
import socket
import ssl
import struct
import sys
import time

FILES = ("1k.bin", "64k.bin")
BIG = "1m.bin"
COMPLETING = ("plain-pasv", "plain-port", "ftps-pasv")
HOLDING = ("hold-login", "hold-pasv", "hold-ftps", "churn")


class Fail(Exception):
    pass


def tls_ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


class Ctl:
    def __init__(self, a):
        self.a = a
        self.r = self.w = None
        self.counted = False
        self.at_barrier = False
        self.tls = False

    async def open(self, port):
        self.r, self.w = await asyncio.open_connection(self.a.host, port)
        self.a.open_now += 1
        self.a.peak = max(self.a.peak, self.a.open_now)
        self.counted = True
        await self.reply(2)

    async def reply(self, want=None):
        line = (await self.r.readline()).decode(errors="replace")
        if not line:
            raise Fail("control connection closed")
        code = line[:3]
        text = line
        if len(line) > 3 and line[3] == "-":
            while True:
                l2 = (await self.r.readline()).decode(errors="replace")
                if not l2:
                    raise Fail("closed in a multi-line reply")
                text += l2
                if l2.startswith(code + " "):
                    break
        if want is not None and not code.startswith(str(want)):
            raise Fail("unexpected reply: " + text.strip()[:80])
        return code, text

    async def cmd(self, line, want=None):
        self.w.write((line + "\r\n").encode())
        await self.w.drain()
        return await self.reply(want)

    async def login(self, tls=False):
        if tls:
            await self.cmd("AUTH TLS", 234)
            await self.w.start_tls(tls_ctx())
        code, _ = await self.cmd("USER anonymous")
        if code == "331":
            await self.cmd("PASS ftpx@example.org", 2)
        elif not code.startswith("2"):
            raise Fail("USER refused: " + code)
        if tls:
            await self.cmd("PBSZ 0", 2)
            await self.cmd("PROT P", 2)
        await self.cmd("TYPE I", 2)

    async def pasv(self):
        _, text = await self.cmd("PASV", 227)
        m = re.search(r"(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)", text)
        if not m:
            raise Fail("227 without an address")
        n = [int(x) for x in m.groups()]
        return "%d.%d.%d.%d" % tuple(n[:4]), n[4] * 256 + n[5]

    def reset(self):
        s = self.w.get_extra_info("socket")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def close(self):
        if self.counted:
            self.a.open_now -= 1
            self.counted = False
        if self.w:
            self.w.transport.abort()


async def read_all(r, limit=None):
    h = hashlib.sha256()
    n = 0
    while True:
        b = await r.read(65536)
        if not b:
            break
        h.update(b)
        n += len(b)
        if limit and n >= limit:
            break
    return h.hexdigest(), n


async def retr_pasv(a, c, name, tls=False):
    step, port = "PASV", 0
    try:
        host, port = await c.pasv()
        step = "data connection"
        # SYNs are retried at 1, 3, 7, 15 s: a data connection with nothing
        # to let it through fails here instead of after the kernel's two
        # minutes
        dr, dw = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
        step = "RETR"
        c.w.write(("RETR %s\r\n" % name).encode())
        await c.w.drain()
        await c.reply(1)
        if tls:
            # the server starts TLS on the data connection after its 1xx
            step = "data TLS"
            await dw.start_tls(tls_ctx())
        step = "data"
    except Exception as e:
        raise Fail("%s to port %d, from %s: %s: %s" % (
            step, port, dw.get_extra_info("sockname")[1] if step not in ("PASV", "data connection") else "-",
            type(e).__name__, e))
    digest, _ = await read_all(dr)
    dw.close()
    await c.reply(2)
    if digest != a.sums[name]:
        raise Fail("checksum mismatch for " + name)


async def retr_port(a, c, name):
    got = asyncio.get_running_loop().create_future()

    async def on_conn(r, w):
        if not got.done():
            got.set_result((r, w))

    srv = await asyncio.start_server(on_conn, a.client_addr, 0)
    port = srv.sockets[0].getsockname()[1]
    h = a.client_addr.split(".")
    try:
        await c.cmd("PORT %s,%s,%s,%s,%d,%d" % (*h, port >> 8, port & 255), 2)
        c.w.write(("RETR %s\r\n" % name).encode())
        await c.w.drain()
        await c.reply(1)
        dr, dw = await got
        digest, _ = await read_all(dr)
        dw.close()
        await c.reply(2)
    finally:
        srv.close()
    if digest != a.sums[name]:
        raise Fail("checksum mismatch for " + name)


async def session(a, kind, rnd, stats):
    c = Ctl(a)
    tls = c.tls = kind in ("ftps-pasv", "hold-ftps")
    try:
        # spread the connection burst over --ramp seconds, or --rate a second
        await asyncio.sleep(a.start_at(rnd))
        a.started += 1
        if a.together:
            # a session stuck before the barrier fails instead of holding
            # up the others
            await asyncio.wait_for(c.open(a.tls_port if tls else a.plain_port), a.login_timeout)
            await asyncio.wait_for(c.login(tls), a.login_timeout)
        else:
            await c.open(a.tls_port if tls else a.plain_port)
            await c.login(tls)
        if a.together:
            await a.barrier(c)
            await asyncio.sleep(rnd.uniform(0, a.spread))
        if kind in ("plain-pasv", "ftps-pasv"):
            await retr_pasv(a, c, rnd.choice(FILES), tls)
        elif kind == "plain-port":
            await retr_port(a, c, rnd.choice(FILES))
        elif kind == "abort":
            host, port = await c.pasv()
            dr, dw = await asyncio.wait_for(asyncio.open_connection(host, port), 30)
            c.w.write(("RETR %s\r\n" % BIG).encode())
            await c.w.drain()
            await c.reply(1)
            await read_all(dr, limit=rnd.choice((1, 4096, 65536)))
            c.w.write(b"ABOR\r\n")
            await c.w.drain()
            dw.transport.abort()
            # 426 then 226, or 226 alone: either ends the transfer
            code, _ = await c.reply()
            if code == "426":
                await c.reply()
        elif kind == "reset":
            await c.pasv()
            c.reset()
            stats["ok"] += 1
            return
        elif kind in ("hold-login", "hold-pasv", "hold-ftps"):
            if kind == "hold-pasv":
                await c.pasv()
            a.held += 1
            if kind == "hold-ftps":
                # a keepalive, as FTPS clients send: the session's gates,
                # held by another session of the same (masqueraded)
                # client while that lived, are retried on our packets
                while not a.release.is_set():
                    try:
                        await asyncio.wait_for(a.release.wait(), 1)
                    except asyncio.TimeoutError:
                        await c.cmd("NOOP", 2)
            await a.release.wait()
            # the router may have lost the session meanwhile: ending it is
            # all that is asked
            try:
                await asyncio.wait_for(c.cmd("QUIT"), 10)
            except Exception:
                pass
            stats["ok"] += 1
            return
        elif kind == "churn":
            a.held += 1
            rounds = 0
            while not a.release.is_set():
                try:
                    await asyncio.wait_for(retr_pasv(a, c, FILES[0]), a.round_timeout)
                    rounds += 1
                    await asyncio.sleep(0.05)
                except Exception:
                    if not a.release.is_set() and not a.unloading():
                        raise
                    break
            stats["rounds"] = stats.get("rounds", 0) + rounds
            stats["ok"] += 1
            return
        await c.cmd("QUIT")
        stats["ok"] += 1
    except Exception as e:  # every failure is reported by kind
        stats["failed"] += 1
        msg = "%s: %s" % (type(e).__name__, e)
        if len(stats["errors"]) < 20:
            stats["errors"].append(msg[:160])
        if kind in HOLDING:
            a.held += 1  # counted as in place, or the case would wait forever
        if a.together and not c.at_barrier:
            a.gone += 1  # the others do not wait for this one
    finally:
        c.close()


async def barrier(a, c):
    """Wait, logged in, until every session is logged in or gone."""
    c.at_barrier = True
    a.ready += 1
    a.ready_tls += c.tls
    await a.all_in.wait()


async def watch_barrier(a, t0):
    while a.ready + a.gone < a.n:
        await asyncio.sleep(0.2)
    info = {"logged_in": a.ready, "tls": a.ready_tls, "failed_before": a.gone, "open": a.open_now,
            "seconds": round(time.monotonic() - t0, 1)}
    with open(os.path.join(a.dir, "together.tmp"), "w") as f:
        json.dump(info, f)
    os.rename(os.path.join(a.dir, "together.tmp"), os.path.join(a.dir, "together"))
    print("ftpstress: %d sessions (%d over TLS) logged in at once (%d control connections "
          "open, %d failed before) after %.1f s"
          % (a.ready, a.ready_tls, a.open_now, a.gone, info["seconds"]),
          flush=True)
    end = time.monotonic() + a.hold
    while not os.path.exists(os.path.join(a.dir, "go")) and time.monotonic() < end:
        await asyncio.sleep(0.2)
    a.all_in.set()


async def progress(a, t0, stats):
    while True:
        await asyncio.sleep(30)
        print("ftpstress: %.0f s: %d started, %d logged in, %d open, %d failed"
              % (time.monotonic() - t0, a.started, a.ready, a.open_now,
                 sum(s["failed"] for s in stats.values())), flush=True)


async def main_async(a):
    a.release = asyncio.Event()
    a.all_in = asyncio.Event()
    a.held = a.ready = a.ready_tls = a.gone = a.started = 0
    a.open_now = a.peak = 0
    a.barrier = lambda c: barrier(a, c)
    if a.rate:
        # session i starts at i/rate: the server forks at a pace it can take
        slot = iter(range(a.n))
        a.start_at = lambda rnd: next(slot) / a.rate
    else:
        a.start_at = lambda rnd: rnd.uniform(0, a.ramp)
    rel = os.path.join(a.dir, "release")
    a.unloading = lambda: os.path.exists(os.path.join(a.dir, "unloading"))
    rnd = random.Random(a.seed)
    kinds, weights = zip(*a.mix)
    plan = rnd.choices(kinds, weights, k=a.n)
    stats = {k: {"sessions": plan.count(k), "ok": 0, "failed": 0, "errors": []} for k in kinds}
    tasks = [asyncio.create_task(session(a, k, random.Random(rnd.random()), stats[k])) for k in plan]
    n_hold = sum(1 for k in plan if k in HOLDING)
    others = [t for t, k in zip(tasks, plan) if k not in HOLDING]
    t0 = time.monotonic()
    deadline = t0 + a.timeout
    if a.together:
        a.watcher = asyncio.create_task(watch_barrier(a, t0))
    if a.rate:
        a.progress = asyncio.create_task(progress(a, t0, stats))
    if others:
        await asyncio.wait(others, timeout=a.timeout)
    while a.held < n_hold and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    t_done = time.monotonic() - t0
    with open(os.path.join(a.dir, "held.tmp"), "w") as f:
        json.dump({"held": a.held, "seconds": round(t_done, 1), "peak": a.peak,
                   "stats": stats}, f)
    os.rename(os.path.join(a.dir, "held.tmp"), os.path.join(a.dir, "held"))
    print("ftpstress: %d sessions (at most %d control connections open at once), "
          "completing ones done and %d held after %.1f s" % (a.n, a.peak, a.held, t_done), flush=True)
    while not os.path.exists(rel) and time.monotonic() < deadline + a.hold:
        await asyncio.sleep(0.1)
    a.release.set()
    pending = [t for t in tasks if not t.done()]
    if pending:
        await asyncio.wait(pending, timeout=60)
    for t in tasks:
        if not t.done():
            t.cancel()
    for k, s in stats.items():
        s["unfinished"] = s["sessions"] - s["ok"] - s["failed"]
    report = {"sessions": a.n, "seconds_to_held": round(t_done, 1), "peak": a.peak,
              "seconds": round(time.monotonic() - t0, 1), "stats": stats}
    with open(os.path.join(a.dir, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    bad = 0
    for k, s in sorted(stats.items()):
        print("ftpstress: %-10s sessions %4d ok %4d failed %3d unfinished %3d %s"
              % (k, s["sessions"], s["ok"], s["failed"], s["unfinished"],
                 ("; ".join(s["errors"][:2])) if s["errors"] else ""), flush=True)
        if s["failed"] or s["unfinished"]:
            bad += 1
    return 1 if bad else 0


def parse_mix(s):
    out = []
    for part in s.split(","):
        k, w = part.split("=")
        if k not in COMPLETING + HOLDING + ("abort", "reset"):
            raise SystemExit("ftpstress: unknown kind " + k)
        out.append((k, float(w)))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", required=True)
    p.add_argument("--plain-port", type=int, default=21)
    p.add_argument("--tls-port", type=int, default=2121)
    p.add_argument("--root", required=True, help="the served directory (checksums)")
    p.add_argument("--dir", required=True)
    p.add_argument("--client-addr", default="0.0.0.0")
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--mix", type=parse_mix, default=parse_mix(
        "plain-pasv=30,plain-port=15,ftps-pasv=20,abort=10,reset=10,"
        "hold-login=4,hold-pasv=4,hold-ftps=3,churn=4"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--timeout", type=float, default=240,
                   help="seconds for the completing sessions")
    p.add_argument("--ramp", type=float, default=0,
                   help="start the sessions at random times in this many seconds")
    p.add_argument("--rate", type=float, default=0,
                   help="start this many sessions a second (instead of --ramp)")
    p.add_argument("--together", action="store_true",
                   help="all sessions log in, wait for each other, then work")
    p.add_argument("--spread", type=float, default=0,
                   help="with --together: start the work within this many seconds")
    p.add_argument("--round-timeout", type=float, default=20,
                   help="seconds a churn round (PASV + RETR) may take")
    p.add_argument("--login-timeout", type=float, default=600,
                   help="with --together: seconds to connect, and to log in")
    p.add_argument("--hold", type=float, default=600,
                   help="seconds the held sessions wait for DIR/release "
                   "(and, with --together, the logged-in ones for DIR/go)")
    a = p.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    a.sums = {}
    for f in FILES + (BIG,):
        with open(os.path.join(a.root, f), "rb") as fh:
            a.sums[f] = hashlib.sha256(fh.read()).hexdigest()
    sys.exit(asyncio.run(main_async(a)))


if __name__ == "__main__":
    main()
