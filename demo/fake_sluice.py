#!/usr/bin/env python3
"""A stand-in for the `sluice` binary, for self-testing the demo driver and the integration
test harness before (or without) a build. It speaks just enough of API.md for them:

  fake_sluice.py mock-llm --listen 127.0.0.1:PORT [ignored options...]
      GET /v1/models, POST /v1/chat/completions, GET /mock/stats, POST /mock/config
  fake_sluice.py serve --config FILE [--listen ADDR] [--data-dir DIR]
      GET /healthz /readyz /metrics; POST /v1/jobs, /v1/jobs/bulk; GET /v1/jobs,
      /v1/jobs/{id}[?wait=], /v1/jobs/{id}/result

It is not a model of Sluice's semantics: jobs run in memory on a few threads with a small random
delay, a keyword classifier answers classify_ticket, a few attempts fail and are retried, and
the jobs are saved to <data_dir>/fake-jobs.json on SIGTERM (not on SIGKILL) and loaded on start.
Nothing here is used by the real server or its tests' assertions about Sluice.
"""

import heapq
import json
import random
import signal
import sys
import threading
import time
import tomllib
import urllib.parse
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SETTLED = ("done", "failed", "review", "expired", "canceled")

KEYWORDS = [  # first match wins
    ("fraud", ["fraud", "not make", "didn't make", "didnt make", "not my", "stolen", "stole",
               "don't recognize", "without my knowledge", "мошенн", "не моя", "украли", "не совершал",
               "без моего ведома", "безопасный счёт", "safe account", "never applied", "не брал"]),
    ("double_charge", ["twice", "double", "duplicate", "two times", "2 payments", "x2", "дважды",
                       "два раза", "двойное", "задвоил", "2 раза"]),
    ("early_repayment", ["early", "pay off", "досрочн", "закрыть кредит", "close credit"]),
    ("card_blocked", ["blocked", "frozen", "unblock", "заблокир", "заморож", "разблокир"]),
    ("phone_change", ["phone number", "new number", "my number", "номер телефона", "новый номер",
                      "сменить номер", "contact number", "number pls"]),
    ("login_problem", ["log in", "login", "sign in", "password", "войти", "вход", "пароль"]),
    ("missing_transfer", ["transfer", "перевод", "salary", "зарплата", "credited", "зачисл",
                          "поступили", "sent", "не пришл"]),
]


def now_rfc3339():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds(duration):
    """'250ms' / '30s' / '2m' -> seconds."""
    for suffix, scale in (("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)):
        if duration.endswith(suffix):
            return float(duration[:-len(suffix)]) * scale
    return float(duration)


def classify(text):
    low = text.lower()
    for category, words in KEYWORDS:
        if any(w in low for w in words):
            return category, 0.9
    return "other", 0.55


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app = None

    def log_message(self, fmt, *args):  # quiet: requests are not interesting here
        pass

    def send_json(self, status, body, headers=None, content_type="application/json"):
        data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def error(self, status, code, message):
        self.send_json(status, {"error": {"code": code, "message": message}})

    def read_json(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def route(self, method):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        handled = self.app.handle(self, method, url.path, query)
        if not handled:
            self.error(404, "not_found", "no route %s %s" % (method, url.path))

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")


class MockLlm:
    def __init__(self):
        self.requests = 0
        self.config = {}
        self.lock = threading.Lock()

    def handle(self, h, method, path, query):
        if method == "GET" and path == "/v1/models":
            h.send_json(200, {"object": "list", "data": [{"id": "gpt-4o-mini", "object": "model"}]})
        elif method == "GET" and path == "/mock/stats":
            with self.lock:
                h.send_json(200, {"requests": self.requests, "config": self.config})
        elif method == "POST" and path == "/mock/config":
            body = h.read_json()
            if not isinstance(body, dict):
                return h.error(400, "invalid_json", "expected an object") or True
            with self.lock:
                self.config.update(body)
                h.send_json(200, self.config)
        elif method == "POST" and path == "/v1/chat/completions":
            h.read_json()
            with self.lock:
                self.requests += 1
            h.send_json(200, {"id": "chatcmpl-fake", "object": "chat.completion", "model": "gpt-4o-mini",
                              "choices": [{"index": 0, "finish_reason": "stop",
                                           "message": {"role": "assistant", "content": "ok"}}],
                              "usage": {"prompt_tokens": 10, "completion_tokens": 1, "total_tokens": 11}})
        else:
            return False
        return True


class Server:
    def __init__(self, data_dir, queues):
        self.data_dir = Path(data_dir)
        self.queues = set(queues) | {"default", "batch"}
        self.lock = threading.Condition()
        self.jobs = {}            # id -> job dict (with "result" kept separately)
        self.results = {}         # id -> result dict
        self.dedup = {}
        self.heap = []            # (not_before, -urgent, -priority, seq, id)
        self.seq = 0
        self.rng = random.Random(1)
        self.stopping = False
        self.load()

    # -- persistence -------------------------------------------------------------------------
    def load(self):
        path = self.data_dir / "fake-jobs.json"
        if path.exists():
            saved = json.loads(path.read_text())
            self.jobs, self.results, self.dedup = saved["jobs"], saved["results"], saved["dedup"]
            self.seq = len(self.jobs)
            for job in self.jobs.values():
                if job["status"] in ("queued", "running"):
                    job["status"] = "queued"
                    self.push(job["id"], 0.0)

    def save(self):
        with self.lock:
            data = json.dumps({"jobs": self.jobs, "results": self.results, "dedup": self.dedup})
        (self.data_dir / "fake-jobs.json").write_text(data)

    # -- jobs --------------------------------------------------------------------------------
    def push(self, job_id, not_before):
        job = self.jobs[job_id]
        heapq.heappush(self.heap, (not_before, 0 if job["queue"] == "urgent" else 1,
                                   -job["priority"], self.seq, job_id))
        self.seq += 1
        self.lock.notify()

    def create(self, body):
        """Returns (job, deduplicated) or raises ValueError(field, message)."""
        if not isinstance(body, dict):
            raise ValueError("", "job must be an object")
        if not isinstance(body.get("type"), str) or not body["type"]:
            raise ValueError("type", "type is required")
        text = (body.get("input") or {}).get("text") if isinstance(body.get("input"), dict) else None
        if not isinstance(text, str):
            raise ValueError("input.text", "input.text is required")
        queue = body.get("queue", "default")
        if queue not in self.queues:
            raise ValueError("queue", "unknown queue " + str(queue))
        priority = body.get("priority", 5)
        if not isinstance(priority, int) or not 0 <= priority <= 9:
            raise ValueError("priority", "priority must be 0..9")
        key = body.get("dedup_key")
        if key is None and body.get("object_id"):
            key = "%s:%s:v1" % (body["type"], body["object_id"])
        with self.lock:
            if key and key in self.dedup:
                return self.jobs[self.dedup[key]], True
            job_id = "job_%08d%04d" % (int(time.time()), self.seq)
            job = {"id": job_id, "object": "job", "type": body["type"], "status": "queued",
                   "queue": queue, "priority": priority, "object_id": body.get("object_id"),
                   "dedup_key": key, "attempt": 0, "max_attempts": body.get("max_attempts", 3),
                   "created_at": now_rfc3339(), "started_at": None, "finished_at": None,
                   "cost_usd": 0.0, "metadata": body.get("metadata") or {}, "error": None,
                   "_text": text, "_attempts": []}
            self.jobs[job_id] = job
            if key:
                self.dedup[key] = job_id
            self.push(job_id, 0.0)
            return job, False

    def public(self, job, deduplicated=None):
        out = {k: v for k, v in job.items() if not k.startswith("_")}
        if deduplicated is not None:
            out["deduplicated"] = deduplicated
        return out

    def worker(self):
        while True:
            with self.lock:
                while not self.stopping and (not self.heap or self.heap[0][0] > time.monotonic()):
                    self.lock.wait(0.01 if self.heap else 0.2)
                if self.stopping:
                    return
                job_id = heapq.heappop(self.heap)[-1]
                job = self.jobs[job_id]
                job["status"] = "running"
                job["attempt"] += 1
                job["started_at"] = job["started_at"] or now_rfc3339()
                started = time.monotonic()
                fail = self.rng.random() < 0.05
                delay = self.rng.uniform(0.005, 0.06)
            time.sleep(delay)
            with self.lock:
                ms = int((time.monotonic() - started) * 1000)
                if fail:
                    job["_attempts"].append({"n": job["attempt"], "outcome": "http_500", "ms": ms, "cost_usd": 0.0})
                    if job["attempt"] < job["max_attempts"]:
                        job["status"] = "queued"
                        self.push(job_id, time.monotonic() + 0.02)
                    else:
                        job["status"] = "failed"
                        job["finished_at"] = now_rfc3339()
                        job["error"] = {"code": "provider_error", "message": "fake provider failed"}
                    self.lock.notify_all()
                    continue
                category, confidence = classify(job["_text"])
                cost = 0.000045
                job["_attempts"].append({"n": job["attempt"], "outcome": "ok", "ms": ms, "cost_usd": cost})
                job["cost_usd"] = cost
                job["status"] = "review" if confidence < 0.6 and self.rng.random() < 0.3 else "done"
                job["finished_at"] = now_rfc3339()
                if job["status"] == "review":
                    job["error"] = {"code": "low_confidence", "message": "confidence under 0.6"}
                self.results[job_id] = {
                    "job_id": job_id,
                    "output": {"category": category, "urgent": "urgent" in job["_text"].lower(),
                               "confidence": confidence, "summary": job["_text"][:60]},
                    "model": "gpt-4o-mini", "model_alias": "fast", "provider": "mock",
                    "cost_usd": cost, "queue_ms": 5, "processing_ms": ms,
                    "attempts": job["_attempts"]}
                self.lock.notify_all()

    def metrics(self):
        counts = {}
        with self.lock:
            for job in self.jobs.values():
                key = (job["queue"], job["status"])
                counts[key] = counts.get(key, 0) + 1
        lines = ["# HELP sluice_jobs Jobs by queue and status.", "# TYPE sluice_jobs gauge"]
        for (queue, status), n in sorted(counts.items()):
            lines.append('sluice_jobs{queue="%s",status="%s"} %d' % (queue, status, n))
        return "\n".join(lines) + "\n"

    # -- HTTP --------------------------------------------------------------------------------
    def handle(self, h, method, path, query):
        parts = [p for p in path.split("/") if p]
        if method == "GET" and path in ("/healthz", "/readyz"):
            h.send_json(200, {"status": "ok"})
        elif method == "GET" and path == "/metrics":
            h.send_json(200, self.metrics(), content_type="text/plain; version=0.0.4")
        elif method == "POST" and path == "/v1/jobs":
            try:
                job, dup = self.create(h.read_json())
            except ValueError as e:
                h.send_json(400, {"error": {"code": "invalid", "message": e.args[1], "field": e.args[0]}})
                return True
            with self.lock:
                body = self.public(job, dup)
            h.send_json(200 if dup else 202, body, headers={"Location": "/v1/jobs/" + job["id"]})
        elif method == "POST" and path == "/v1/jobs/bulk":
            body = h.read_json()
            if not isinstance(body, dict) or not isinstance(body.get("jobs"), list):
                h.error(400, "invalid", "expected {\"jobs\": [...]}")
                return True
            out = []
            for item in body["jobs"]:
                try:
                    job, dup = self.create(item)
                    out.append({"id": job["id"], "status": job["status"], "deduplicated": dup})
                except ValueError as e:
                    out.append({"error": {"code": "invalid", "message": e.args[1], "field": e.args[0]}})
            h.send_json(200, {"jobs": out})
        elif method == "GET" and path == "/v1/jobs":
            limit = min(int(query.get("limit", 100)), 100)   # capped, so clients must page
            with self.lock:
                ids = sorted(self.jobs)
                ids = [i for i in ids if i > query.get("after", "")]
                if query.get("status"):
                    ids = [i for i in ids if self.jobs[i]["status"] == query["status"]]
                page = ids[:limit]
                data = [self.public(self.jobs[i]) for i in page]
            h.send_json(200, {"data": data, "next": page[-1] if len(ids) > limit else None})
        elif method == "GET" and len(parts) == 3 and parts[:2] == ["v1", "jobs"]:
            wait = seconds(query["wait"]) if query.get("wait") else 0.0
            deadline = time.monotonic() + wait
            with self.lock:
                job = self.jobs.get(parts[2])
                while job and job["status"] not in SETTLED and time.monotonic() < deadline:
                    self.lock.wait(deadline - time.monotonic())
                body = self.public(job) if job else None
                if body:
                    body["result"] = self.results.get(job["id"])
            if body is None:
                h.error(404, "not_found", "no such job")
            else:
                h.send_json(200, body)
        elif method == "GET" and len(parts) == 4 and parts[:2] == ["v1", "jobs"] and parts[3] == "result":
            with self.lock:
                known, result = parts[2] in self.jobs, self.results.get(parts[2])
            if result is None:
                h.error(404, "not_found", "no result yet" if known else "no such job")
            else:
                h.send_json(200, result)
        else:
            return False
        return True


def serve_http(app, listen):
    host, _, port = listen.rpartition(":")
    Handler.app = app
    httpd = ThreadingHTTPServer((host, int(port)), Handler)
    httpd.daemon_threads = True
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    print("fake sluice listening on %s" % listen, file=sys.stderr, flush=True)
    while not stop.wait(0.1):
        pass
    httpd.shutdown()
    httpd.server_close()


def option(argv, name, default=None):
    if name in argv:
        i = argv.index(name)
        if i + 1 < len(argv):
            return argv[i + 1]
    return default


def main(argv):
    if not argv:
        print("usage: fake_sluice.py serve --config FILE | mock-llm --listen ADDR", file=sys.stderr)
        return 2
    if argv[0] == "mock-llm":
        serve_http(MockLlm(), option(argv, "--listen", "127.0.0.1:9001"))
        return 0
    if argv[0] == "serve":
        config_path = option(argv, "--config")
        config = tomllib.loads(Path(config_path).read_text()) if config_path else {}
        server_cfg = config.get("server", {})
        listen = option(argv, "--listen", server_cfg.get("listen", "127.0.0.1:8080"))
        data_dir = Path(option(argv, "--data-dir", server_cfg.get("data_dir", "./sluice-data")))
        data_dir.mkdir(parents=True, exist_ok=True)
        app = Server(data_dir, [q["name"] for q in config.get("queue", [])])
        workers = [threading.Thread(target=app.worker, daemon=True) for _ in range(8)]
        for w in workers:
            w.start()
        serve_http(app, listen)
        with app.lock:
            app.stopping = True
            app.lock.notify_all()
        for w in workers:
            w.join()
        app.save()
        print("fake sluice stopped cleanly", file=sys.stderr, flush=True)
        return 0
    print("unknown command %s" % argv[0], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
