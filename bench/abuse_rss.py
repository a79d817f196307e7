#!/usr/bin/env python3
"""Abuse cases of the hardening issue, one real `sluice serve` (embedded store) per case, on
127.0.0.1 only: what each costs the server in memory and how it ends.

Per case it measures
  peak   VmHWM of the sluice process at the end minus its VmRSS just before the case (the peak
         is reset through /proc/<pid>/clear_refs first, so start-up does not hide growth; when
         that is not allowed, VmHWM before the case is the baseline instead), MiB
  after  VmRSS once the case is over, MiB (and rss_after_3s_mib in the JSON: 3 s later)
  s      seconds the abuse took until the server answered / closed / gave up
  outcome what happened: status answered, connection closed, job or delivery outcome

Cases (--only 1,4b,...; a number selects all its variants):
  1a/1b  chunked body whose chunk-size line never ends (hex digits / a chunk extension)
  2      endless trailers after the last chunk
  3      200 connections trickling a head one byte every 2 s, header_timeout 10 s: closed at 15 s
  4a-c   Transfer-Encoding gzip / "chunked, identity" / gzip without length, smuggled request
  5a/5b  webhook receiver answering a gzip bomb (5b: with http_proxy set in the server's
         environment, naming the receiver; webhooks go through libcurl either way)
  6a/6b  webhook receiver trickling a 500 MiB plain reply (16 KiB / 50 ms; 64 B / s)
  7a-d   provider answering an oversize plain body (7a with Content-Length, 7d without) / a gzip
         bomb on the direct http:// path (Asio engine, 7b) / through http_proxy (libcurl, 7c)
  8      20 SSE clients reading nothing during a replay of 40 000 events
  9      POST /v1/files, 50 MiB of empty multipart parts
  10     a 200 MiB valid upload, for scale

Figures, never pass/fail (a bench, not a test). Standard library only; reuses
tests/integration/harness.py. Each case has its own time bound (SIGALRM) and stops its
processes, sockets and receivers however it ends.

    python3 bench/abuse_rss.py --bin build/sluice [--only 1,5] [--quick] [--out results.json]
"""

import argparse
import http.client
import http.server
import json
import os
import re
import select
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402

MiB = 1 << 20
LOOP = "127.0.0.1"


class CaseTimeout(BaseException):
    """The case's own time bound passed (raised by SIGALRM in the main thread)."""


def _alarm(signum, frame):
    raise CaseTimeout()


# ---------------------------------------------------------------------------------------------
# Memory of the server process.

def status_kib(pid, field):
    return harness.proc_status_kib(pid, field)


class Memory:
    """Baseline before a case, a sampler of VmRSS while it runs, VmHWM at the end."""

    def __init__(self, pid):
        self.pid = pid
        self.reset = False
        try:
            with open("/proc/%d/clear_refs" % pid, "w") as f:
                f.write("5")   # resets VmHWM to the current RSS
            self.reset = True
        except OSError:
            pass
        self.rss_before = status_kib(pid, "VmRSS")
        self.hwm_before = status_kib(pid, "VmHWM")
        self.base = self.rss_before if self.reset else self.hwm_before
        self.sampled_peak = self.rss_before
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        while not self._stop.wait(0.05):
            try:
                self.sampled_peak = max(self.sampled_peak, status_kib(self.pid, "VmRSS"))
            except (OSError, AssertionError):
                return

    def settled(self, wait=3.0):
        """VmRSS `wait` seconds after the case ended (what the process gave back)."""
        time.sleep(wait)
        try:
            return round(status_kib(self.pid, "VmRSS") / 1024, 1)
        except (OSError, AssertionError):
            return None

    def finish(self):
        self._stop.set()
        self._thread.join(timeout=1)
        try:
            hwm = status_kib(self.pid, "VmHWM")
            after = status_kib(self.pid, "VmRSS")
        except (OSError, AssertionError):
            return {"peak_growth_mib": None, "rss_after_mib": None, "rss_before_mib": self.rss_before / 1024}
        peak = max(hwm, self.sampled_peak)
        return {"rss_before_mib": round(self.rss_before / 1024, 1),
                "peak_growth_mib": round((peak - self.base) / 1024, 1),
                "rss_after_mib": round(after / 1024, 1),
                "hwm_reset": self.reset}


# ---------------------------------------------------------------------------------------------
# Raw sockets.

def connect(port, timeout=10):
    s = socket.create_connection((LOOP, port), timeout=timeout)
    return s


def read_until_close(sock, timeout):
    """Everything the server sends until it closes (or `timeout`); (bytes, closed, seconds)."""
    start = time.monotonic()
    data = b""
    sock.settimeout(0.2)
    while time.monotonic() - start < timeout:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return data, "reset", time.monotonic() - start
        if not chunk:
            return data, "closed", time.monotonic() - start
        data += chunk
    return data, "open", time.monotonic() - start


def statuses(data):
    return [int(m) for m in re.findall(rb"(?:^|\r\n)HTTP/1\.[01] (\d{3}) ", data)]


def flood(port, initial, filler, limit, time_limit):
    """Sends `initial` then `filler` again and again (up to `limit` bytes in all) while watching
    for an answer or a close. Returns a dict: bytes sent when it ended, status, how it ended."""
    s = connect(port)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
    s.setblocking(False)
    sent = 0
    pending = memoryview(initial)
    fill = memoryview(filler)
    answer = b""
    ended = "limit"
    start = time.monotonic()
    try:
        while sent < limit:
            if time.monotonic() - start > time_limit:
                ended = "time_limit"
                break
            r, w, _ = select.select([s], [s], [], 1.0)
            if r:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    ended = "reset"
                    break
                except BlockingIOError:
                    chunk = None
                if chunk == b"":
                    ended = "closed"
                    break
                if chunk:
                    answer += chunk
                    if b"\r\n\r\n" in answer:
                        ended = "answered"
                        break
            if w:
                if not pending:
                    pending = fill
                try:
                    n = s.send(pending)
                except BlockingIOError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    ended = "reset"
                    break
                sent += n
                pending = pending[n:]
        took = time.monotonic() - start
        s.setblocking(True)
        rest, how, _ = read_until_close(s, 3.0)
        answer += rest
    finally:
        s.close()
    st = statuses(answer)
    closed = how if ended == "answered" or ended == "limit" or ended == "time_limit" else ended
    return {"bytes_sent": sent, "ended": ended, "status": st[0] if st else None, "conn": closed,
            "seconds": round(took, 2), "answer": answer.split(b"\r\n\r\n", 1)[-1][:200].decode("utf-8", "replace")}


def flood_outcome(d):
    what = "answered %d" % d["status"] if d["status"] else d["ended"]
    return "%s after %.2f MiB sent, conn %s" % (what, d["bytes_sent"] / MiB, d["conn"])


# ---------------------------------------------------------------------------------------------
# Small HTTP servers of the bench (webhook receiver, provider): a handler per behaviour.

_BOMB = {}


def gzip_bomb(inflated):
    """A gzip member of `inflated` zero bytes, made 1 MiB at a time (never held inflated)."""
    if inflated not in _BOMB:
        co = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = b"\0" * MiB
        out = []
        for _ in range(inflated // MiB):
            out.append(co.compress(zeros))
        out.append(co.flush())
        _BOMB[inflated] = b"".join(out)
    return _BOMB[inflated]


class Behaviour:
    """What a bench HTTP server answers: status, headers, and a body given as a total length and
    a generator of pieces with a pause between them."""

    def __init__(self, status=200, headers=None, pieces=None, length=None, pause=0.0, ctype="application/json"):
        self.status, self.headers, self.pieces, self.length, self.pause = status, headers or {}, pieces, length, pause
        self.ctype = ctype
        self.lock = threading.Lock()
        self.requests = []   # {"path", "start", "end", "sent", "error"}


def start_http(behaviour):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0") or 0)
            if n:
                self.rfile.read(n)
            rec = {"path": self.path, "start": time.monotonic(), "end": None, "sent": 0, "error": None}
            with behaviour.lock:
                behaviour.requests.append(rec)
            try:
                self.send_response(behaviour.status)
                self.send_header("Content-Type", behaviour.ctype)
                for k, v in behaviour.headers.items():
                    self.send_header(k, v)
                if behaviour.length is not None:
                    self.send_header("Content-Length", str(behaviour.length))
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in behaviour.pieces():
                    self.wfile.write(piece)
                    rec["sent"] += len(piece)
                    if behaviour.pause:
                        time.sleep(behaviour.pause)
                self.wfile.flush()
            except OSError as e:
                rec["error"] = type(e).__name__
            rec["end"] = time.monotonic()
            self.close_connection = True

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer((LOOP, 0), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def stop_http(srv):
    srv.shutdown()
    srv.server_close()


def pieces_of(data, size=64 << 10):
    def gen():
        for i in range(0, len(data), size):
            yield data[i:i + size]
    return gen


def repeated(piece, total):
    def gen():
        left = total
        while left > 0:
            p = piece if left >= len(piece) else piece[:left]
            left -= len(p)
            yield p
    return gen


# ---------------------------------------------------------------------------------------------
# Cases. Each gets a Ctx and returns (outcome string, details dict); the runner measures memory.

class Ctx:
    def __init__(self, args, tmp):
        self.args, self.tmp, self.quick = args, tmp, args.quick
        self.server = None
        self.cleanups = []

    def start(self, **kw):
        kw.setdefault("bin", self.args.bin)
        kw.setdefault("tmp_dir", self.tmp / ("server-" + uuid.uuid4().hex[:6]))
        self.server = harness.Server(**kw)
        self.server.start()
        return self.server

    def later(self, fn, *a):
        self.cleanups.append((fn, a))

    def close(self):
        for fn, a in reversed(self.cleanups):
            try:
                fn(*a)
            except Exception:
                pass
        self.cleanups = []


JSON_HEAD = ("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
             "Transfer-Encoding: chunked\r\n\r\n").encode()


def case_1a(ctx, mem_start):
    server = ctx.start()
    mem_start()
    limit = (32 if ctx.quick else 256) * MiB
    d = flood(server.port, JSON_HEAD + b"1", b"0" * (64 << 10), limit, 60)
    return flood_outcome(d), d


def case_1b(ctx, mem_start):
    server = ctx.start()
    mem_start()
    limit = (32 if ctx.quick else 256) * MiB
    d = flood(server.port, JSON_HEAD + b"10;ext=", b"a" * (64 << 10), limit, 60)
    return flood_outcome(d), d


def case_2(ctx, mem_start):
    server = ctx.start()
    mem_start()
    limit = (32 if ctx.quick else 256) * MiB
    line = b"X-Trailer-Padding: " + b"a" * 40 + b"\r\n"
    d = flood(server.port, JSON_HEAD + b"2\r\n{}\r\n0\r\n", line * ((64 << 10) // len(line)), limit, 60)
    return flood_outcome(d), d


def case_3(ctx, mem_start):
    n, watch, every = 200, 15.0, 2.0
    server = ctx.start(server={"header_timeout": "10s"})
    mem_start()
    head = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10000
    socks = []
    for _ in range(n):
        s = connect(server.port)
        ctx.later(s.close)
        s.setblocking(False)
        socks.append(s)
    pos = {s: 0 for s in socks}
    closed = {}     # sock -> (seconds, first status or None)
    got = {s: b"" for s in socks}
    start = time.monotonic()
    next_send = start
    while time.monotonic() - start < watch:
        now = time.monotonic()
        if now >= next_send:
            for s in socks:
                if s in closed:
                    continue
                try:
                    s.send(head[pos[s]:pos[s] + 1])
                    pos[s] += 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed[s] = (now - start, None)
            next_send += every
        open_ = [s for s in socks if s not in closed]
        if not open_:
            break
        r, _, _ = select.select(open_, [], [], max(0.0, min(0.5, next_send - time.monotonic())))
        for s in r:
            try:
                chunk = s.recv(4096)
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            got[s] += chunk
            if not chunk:
                st = statuses(got[s])
                closed[s] = (time.monotonic() - start, st[0] if st else None)
    times = sorted(t for t, _ in closed.values())
    codes = {}
    for _, st in closed.values():
        codes[str(st)] = codes.get(str(st), 0) + 1
    d = {"connections": n, "closed_by_server": len(closed), "statuses": codes, "bytes_per_conn_max": max(pos.values()),
         "first_close_s": round(times[0], 2) if times else None, "last_close_s": round(times[-1], 2) if times else None,
         "seconds": round(times[-1], 2) if times else watch}
    out = "%d/%d closed by %.0f s (%s), closes at %s..%s s" % (
        len(closed), n, watch, ", ".join("%s x%d" % kv for kv in codes.items()) or "-", d["first_close_s"], d["last_close_s"])
    return out, d


SMUGGLED = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def smuggle(ctx, mem_start, te, body, content_length):
    server = ctx.start()
    mem_start()
    s = connect(server.port)
    ctx.later(s.close)
    head = "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: %s\r\n" % te
    if content_length:
        head += "Content-Length: %d\r\n" % len(body)
    start = time.monotonic()
    s.sendall(head.encode() + b"\r\n" + body)
    data, how, took = read_until_close(s, 5.0)
    st = statuses(data)
    d = {"transfer_encoding": te, "content_length": content_length, "statuses": st, "conn": how,
         "smuggled_answered": len(st) > 1, "seconds": round(took, 2)}
    out = "answered %s, conn %s%s" % ("/".join(map(str, st)) or "nothing", how,
                                      ", SMUGGLED REQUEST ANSWERED" if len(st) > 1 else ", smuggled not answered")
    return out, d


def case_4a(ctx, m):
    return smuggle(ctx, m, "gzip", SMUGGLED, True)


def case_4b(ctx, m):
    return smuggle(ctx, m, "chunked, identity", b"0\r\n\r\n" + SMUGGLED, False)


def case_4c(ctx, m):
    return smuggle(ctx, m, "gzip", SMUGGLED, False)


WEBHOOKS = {"allow_hosts": ["127.0.0.1"], "retry_base": "200ms", "retry_max": "1s", "timeout": "10s",
            "max_attempts": 3}


def webhook_case(ctx, mem_start, behaviour, env=None, via_proxy=False, watch=60.0):
    srv = start_http(behaviour)
    ctx.later(stop_http, srv)
    port = srv.server_address[1]
    env = dict(env or {})
    if via_proxy:
        # libcurl carries http:// when the environment names a proxy; the proxy is the receiver.
        env.update({"http_proxy": "http://127.0.0.1:%d" % port, "no_proxy": "", "NO_PROXY": ""})
    server = ctx.start(webhooks=WEBHOOKS, env=env)
    mem_start()
    url = "http://127.0.0.1:%d/hook" % port
    job = harness.submit_ok(server, harness.classify_job("charged twice", webhook_url=url))
    start = time.monotonic()
    events = []
    while time.monotonic() - start < watch:
        r = harness.request("GET", server.url + "/v1/jobs/%s/events" % job["id"])
        events = [e["data"] for e in r.body.get("data", []) if e["type"] == "webhook"] if r.status == 200 else []
        if events and events[-1].get("outcome") in ("delivered", "gave_up", "refused"):
            break
        time.sleep(0.2)
    took = time.monotonic() - start
    with behaviour.lock:
        reqs = [dict(r) for r in behaviour.requests]
    attempts = [{"outcome": e.get("outcome"), "code": e.get("code"), "status": e.get("status_code"),
                 "ms": e.get("ms"), "error": (e.get("error") or "")[:120]} for e in events]
    served = [{"sent_mib": round(r["sent"] / MiB, 2), "seconds": round((r["end"] or time.monotonic()) - r["start"], 2),
               "error": r["error"]} for r in reqs]
    d = {"attempts": attempts, "receiver": served, "seconds": round(took, 2)}
    last = attempts[-1] if attempts else {}
    out = "%d attempt(s), last %s%s%s; receiver wrote %s MiB in %s s" % (
        len(attempts), last.get("outcome"), " " + last["code"] if last.get("code") else "",
        " (status %s)" % last["status"] if last.get("status") else "",
        "/".join("%.2f" % s["sent_mib"] for s in served) or "0", "/".join("%.1f" % s["seconds"] for s in served) or "-")
    return out, d


def bomb_size(ctx):
    return (256 if ctx.quick else 2048) * MiB


def case_5a(ctx, m):
    bomb = gzip_bomb(bomb_size(ctx))
    b = Behaviour(200, {"Content-Encoding": "gzip"}, pieces_of(bomb), len(bomb))
    out, d = webhook_case(ctx, m, b)
    d["bomb_wire_mib"] = round(len(bomb) / MiB, 2)
    d["bomb_inflated_mib"] = bomb_size(ctx) // MiB
    return out, d


def case_5b(ctx, m):
    bomb = gzip_bomb(bomb_size(ctx))
    b = Behaviour(200, {"Content-Encoding": "gzip"}, pieces_of(bomb), len(bomb))
    out, d = webhook_case(ctx, m, b, via_proxy=True)
    d["bomb_wire_mib"] = round(len(bomb) / MiB, 2)
    d["bomb_inflated_mib"] = bomb_size(ctx) // MiB
    return out, d


def case_6(ctx, m):
    total = 500 * MiB
    b = Behaviour(200, {}, repeated(b"x" * (16 << 10), total), total, pause=0.05, ctype="text/plain")
    return webhook_case(ctx, m, b, watch=90.0)


def case_6b(ctx, m):
    # So slow that the 4 KiB the dispatcher reads would take a minute: the attempt's timeout ends it.
    total = 500 * MiB
    b = Behaviour(200, {}, repeated(b"x" * 64, total), total, pause=1.0, ctype="text/plain")
    return webhook_case(ctx, m, b, watch=90.0)


def provider_case(ctx, mem_start, behaviour, via_proxy=False, watch=90.0):
    srv = start_http(behaviour)
    ctx.later(stop_http, srv)
    port = srv.server_address[1]
    env = {}
    base = "http://127.0.0.1:%d/v1" % port
    if via_proxy:
        env = {"http_proxy": "http://127.0.0.1:%d" % port, "no_proxy": "", "NO_PROXY": ""}
        base = "http://127.0.0.1:9/v1"   # never reached: the proxy answers
    server = ctx.start(providers=[{"name": "p", "base_url": base, "timeout": "30s", "max_concurrency": 4}],
                       models=[{"alias": "fast", "provider": "p", "id": "m"}], env=env)
    mem_start()
    start = time.monotonic()
    job = harness.submit_ok(server, {"type": "chat", "fallback": False, "max_attempts": 1,
                                     "request": {"model": "fast", "messages": [{"role": "user", "content": "hi"}]}})
    try:
        done = harness.wait_job(server, job["id"], timeout=watch)
    except harness.WaitTimeout:
        done = harness.get_job(server, job["id"])
    took = time.monotonic() - start
    with behaviour.lock:
        reqs = [dict(r) for r in behaviour.requests]
    err = done.get("error") or {}
    d = {"job_status": done.get("status"), "error_code": err.get("code"), "error": (err.get("message") or "")[:160],
         "attempts": done.get("attempts"), "provider_requests": len(reqs),
         "provider_wrote_mib": [round(r["sent"] / MiB, 2) for r in reqs], "seconds": round(took, 2)}
    out = "job %s %s after %d call(s); provider wrote %s MiB" % (
        d["job_status"], d["error_code"] or "", len(reqs), "/".join("%.1f" % x for x in d["provider_wrote_mib"]) or "0")
    return out, d


def case_7a(ctx, m):
    total = (256 if ctx.quick else 1024) * MiB
    b = Behaviour(200, {}, repeated(b"x" * (64 << 10), total), total)
    return provider_case(ctx, m, b)


def case_7d(ctx, m):
    # No Content-Length: the body ends when the connection closes, so only counting can stop it.
    total = (256 if ctx.quick else 1024) * MiB
    return provider_case(ctx, m, Behaviour(200, {}, repeated(b"x" * (64 << 10), total), None))


def case_7b(ctx, m):
    bomb = gzip_bomb(bomb_size(ctx))
    return provider_case(ctx, m, Behaviour(200, {"Content-Encoding": "gzip"}, pieces_of(bomb), len(bomb)))


def case_7c(ctx, m):
    bomb = gzip_bomb(bomb_size(ctx))
    return provider_case(ctx, m, Behaviour(200, {"Content-Encoding": "gzip"}, pieces_of(bomb), len(bomb)),
                         via_proxy=True)


def case_8(ctx, mem_start):
    jobs = 40_000   # about 8 MB of SSE: more than the kernel buffers of 20 loopback sockets take
    streams = 20
    stall = 5 if ctx.quick else 30   # events.stall_timeout: 30 s is the default
    server = ctx.start(tables={"events": {"stall_timeout": "%ds" % stall}})
    for start in range(0, jobs, 5_000):
        r = harness.submit_bulk(server, [harness.classify_job("ticket %d" % i, run_in="1h")
                                         for i in range(start, min(jobs, start + 5_000))])
        if r.status != 200:
            raise RuntimeError("bulk submit answered %r" % (r,))
    mem_start()
    idle = []
    for _ in range(streams):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.connect((LOOP, server.port))
        ctx.later(s.close)
        s.sendall(("GET /v1/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % server.port).encode())
        idle.append(s)
    ports = [s.getsockname()[1] for s in idle]
    start = time.monotonic()
    watch = stall + 15
    closed = {}
    # Read nothing. A server closing a stream whose client does not read has its FIN queued
    # behind the unsent bytes, so the client's socket shows nothing: look at the server's side
    # of each connection in /proc/net/tcp instead (ESTABLISHED = open; FIN_WAIT1 and later, or
    # gone = closed by the server).
    while time.monotonic() - start < watch and len(closed) < streams:
        states = server_side_states(server.port)
        for p in ports:
            if p not in closed and states.get(p, 0) != 1:
                closed[p] = time.monotonic() - start
        time.sleep(0.5)
    times = sorted(closed.values())
    d = {"events": jobs, "streams": streams, "stall_timeout_s": stall, "closed_by_server": len(closed),
         "first_close_s": round(times[0], 1) if times else None, "last_close_s": round(times[-1], 1) if times else None,
         "seconds": round(times[-1], 1) if len(times) == streams else round(time.monotonic() - start, 1)}
    out = "%d/%d idle streams closed by the server (stall_timeout %d s), at %s..%s s" % (
        len(closed), streams, stall, d["first_close_s"], d["last_close_s"])
    return out, d


def server_side_states(port):
    """{client port: TCP state} of the server's sockets on 127.0.0.1:port (1 = ESTABLISHED)."""
    out = {}
    with open("/proc/net/tcp", encoding="ascii") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, state = fields[1], fields[2], int(fields[3], 16)
            if local == "0100007F:%04X" % port:
                out[int(remote.split(":")[1], 16)] = state
    return out


def post_stream(port, path, ctype, length, gen, timeout=300):
    conn = http.client.HTTPConnection(LOOP, port, timeout=timeout)
    try:
        conn.putrequest("POST", path)
        conn.putheader("Host", "127.0.0.1")
        conn.putheader("Content-Type", ctype)
        conn.putheader("Content-Length", str(length))
        conn.endheaders()
        try:
            for piece in gen():
                conn.send(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = conn.getresponse()
        raw = resp.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw[:200].decode("utf-8", "replace")
        return resp.status, body
    finally:
        conn.close()


def case_9(ctx, mem_start):
    server = ctx.start()
    mem_start()
    boundary = "b" + uuid.uuid4().hex[:8]
    part = ("--%s\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n" % boundary).encode()
    size = (10 if ctx.quick else 50) * MiB
    count = size // len(part)
    tail = ("--%s--\r\n" % boundary).encode()
    block = part * 1000

    def gen():
        for _ in range(count // 1000):
            yield block
        yield part * (count % 1000)
        yield tail
    start = time.monotonic()
    status, body = post_stream(server.port, "/v1/files", "multipart/form-data; boundary=" + boundary,
                               count * len(part) + len(tail), gen)
    took = time.monotonic() - start
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    msg = body.get("error", {}).get("message") if isinstance(body, dict) else str(body)
    d = {"body_mib": round((count * len(part) + len(tail)) / MiB, 1), "parts": count, "status": status,
         "code": code, "message": (msg or "")[:160], "seconds": round(took, 2)}
    return "answered %d %s (%d empty parts, %.0f MiB)" % (status, code or "", count, d["body_mib"]), d


def case_10(ctx, mem_start):
    server = ctx.start()
    mem_start()
    boundary = "sluice-" + uuid.uuid4().hex
    head = ("--%s\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
            "Content-Type: application/jsonl\r\n\r\n" % (boundary, boundary)).encode()
    tail = ("\r\n--%s--\r\n" % boundary).encode()
    line = (json.dumps({"custom_id": "r-000000", "method": "POST", "url": "/v1/chat/completions",
                        "body": {"model": "fast", "messages": [{"role": "user", "content": "Say hello " + "x" * 60}]}})
            + "\n").encode()
    budget = (20 if ctx.quick else 200) * MiB - len(head) - len(tail) - 4096
    lines = budget // len(line)
    block = line * 1000

    def gen():
        yield head
        for _ in range(lines // 1000):
            yield block
        yield line * (lines % 1000)
        yield tail
    length = len(head) + lines * len(line) + len(tail)
    start = time.monotonic()
    status, body = post_stream(server.port, "/v1/files", "multipart/form-data; boundary=" + boundary, length, gen)
    took = time.monotonic() - start
    d = {"body_mib": round(length / MiB, 1), "file_mib": round(lines * len(line) / MiB, 1), "status": status,
         "file_id": body.get("id") if isinstance(body, dict) else None,
         "error": body.get("error") if isinstance(body, dict) else body, "seconds": round(took, 2)}
    return "answered %d (%.0f MiB file stored)" % (status, d["file_mib"]) if status == 200 else \
        "answered %d %s" % (status, d["error"]), d


CASES = [
    ("1a", "chunk-size line never ends (digits)", case_1a, 90),
    ("1b", "chunk-size line never ends (extension)", case_1b, 90),
    ("2", "endless trailers after the last chunk", case_2, 90),
    ("3", "200 heads trickled 1 byte / 2 s", case_3, 60),
    ("4a", "TE: gzip + Content-Length, smuggled GET", case_4a, 30),
    ("4b", "TE: chunked, identity, smuggled GET", case_4b, 30),
    ("4c", "TE: gzip without length, smuggled GET", case_4c, 30),
    ("5a", "webhook reply gzip bomb (direct)", case_5a, 150),
    ("5b", "webhook gzip bomb, http_proxy in env", case_5b, 150),
    ("6a", "webhook reply 500 MiB at 320 KiB/s", case_6, 150),
    ("6b", "webhook reply 500 MiB at 64 B/s", case_6b, 150),
    ("7a", "provider reply oversize plain body", case_7a, 150),
    ("7d", "provider reply oversize, no Content-Length", case_7d, 150),
    ("7b", "provider reply gzip bomb (direct)", case_7b, 150),
    ("7c", "provider reply gzip bomb (via http_proxy)", case_7c, 150),
    ("8", "20 SSE clients not reading, 40k replay", case_8, 150),
    ("9", "POST /v1/files 50 MiB of empty parts", case_9, 120),
    ("10", "POST /v1/files 200 MiB valid upload", case_10, 240),
]


def select_cases(only):
    if not only:
        return CASES
    want = [w.strip() for w in only.split(",") if w.strip()]
    picked = [c for c in CASES if any(c[0] == w or (w.isdigit() and re.fullmatch(w + "[a-z]?", c[0])) for w in want)]
    unknown = [w for w in want if not any(c[0] == w or (w.isdigit() and re.fullmatch(w + "[a-z]?", c[0])) for c in CASES)]
    if unknown:
        raise SystemExit("unknown case(s): %s (known: %s)" % (", ".join(unknown), ", ".join(c[0] for c in CASES)))
    return picked


def run_case(args, tmp, key, title, fn, bound):
    ctx = Ctx(args, tmp / key)
    mem = {}
    row = {"case": key, "title": title}
    started = time.monotonic()

    def mem_start():
        mem["m"] = Memory(ctx.server.pid)

    old = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, bound)
    try:
        outcome, details = fn(ctx, mem_start)
        row.update(outcome=outcome, details=details)
    except CaseTimeout:
        row.update(outcome="BENCH TIME BOUND (%d s) PASSED" % bound, details={})
    except Exception as e:  # a case that fails is reported, the others still run
        row.update(outcome="bench error: %s: %s" % (type(e).__name__, str(e)[:200]), details={})
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    try:
        if "m" in mem:
            ctx.close()   # sockets and receivers of the case go first
            row.update(mem["m"].finish())
            if ctx.server is not None and ctx.server.alive():
                row["rss_after_3s_mib"] = mem["m"].settled()
        server = ctx.server
        if server is not None:
            if not server.alive():
                row["server_exit"] = server.returncode
                row["outcome"] += "; SERVER EXITED (code %s)" % server.returncode
                row["server_log_tail"] = server.tail(20)
        ctx.close()
    finally:
        if ctx.server is not None:
            ctx.server.cleanup()
    row["seconds"] = row.get("details", {}).get("seconds")
    row["case_wall_s"] = round(time.monotonic() - started, 1)
    return row


def fmt(v, spec="%.1f"):
    return "-" if v is None else spec % v


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--only", help="cases, e.g. 1,4b,8 (a number selects all its variants)")
    ap.add_argument("--quick", action="store_true", help="smaller sizes and shorter stalls")
    ap.add_argument("--out", help="write the rows as JSON here")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    cases = select_cases(args.only)
    tmp = Path(tempfile.mkdtemp(prefix="sluice-abuse-"))
    rows = []
    try:
        for key, title, fn, bound in cases:
            print("case %-3s %s ..." % (key, title), file=sys.stderr, flush=True)
            row = run_case(args, tmp, key, title, fn, bound)
            print("   -> %s (peak +%s MiB, %s s)" % (row["outcome"], fmt(row.get("peak_growth_mib")), fmt(row["seconds"])),
                  file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if not harness.KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)
    w = max(len(r["title"]) for r in rows) if rows else 10
    print()
    print("%-4s %-*s  %8s %9s %9s %7s  %s" % ("case", w, "abuse", "base MiB", "peak MiB", "after MiB", "s", "outcome"))
    for r in rows:
        print("%-4s %-*s  %8s %9s %9s %7s  %s" % (r["case"], w, r["title"], fmt(r.get("rss_before_mib")),
                                                 "+" + fmt(r.get("peak_growth_mib")), fmt(r.get("rss_after_mib")),
                                                 fmt(r["seconds"], "%.2f"), r["outcome"]))
    if args.out:
        doc = {"bin": args.bin, "quick": args.quick, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
               "cases": rows}
        Path(args.out).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
