#!/usr/bin/env python3
"""The Sluice demo: 500 bank support tickets classified through the durable queue.

    python3 demo/run_demo.py --sluice build/sluice

It starts two local processes on free loopback ports (nothing leaves 127.0.0.1):
  * `sluice mock-llm`, an OpenAI-compatible simulator with 400 ms +- 300 ms latency, 3 % errors
    and 2 % rate limiting (429), and
  * `sluice serve`, configured with one provider (the mock), a "fast" model alias, and an
    "urgent" queue with reserved slots;
submits every ticket in demo/tickets.jsonl as a `classify_ticket` job (urgent ones to the
urgent queue at priority 9) through POST /v1/jobs/bulk, shows progress from GET /metrics,
fetches every job and result when all have settled, writes demo/out/results.jsonl and prints a
summary (categories, accuracy against the hidden expected_category, review, retries, failures,
time to result p50/p95 overall and for the urgent queue, cost, throughput).

Both processes are stopped (SIGTERM, then SIGKILL after 10 s) however the demo ends. The exit
code is 0 when every ticket was accepted and reached a settled state (done, failed, review,
expired or canceled) within --timeout; failed jobs are part of the story (the mock injects
errors), not a demo failure.

`--self-test` checks the parts that need no server (argument parsing, the config file, metrics
parsing, the summary arithmetic) and, when demo/fake_sluice.py is present, runs the whole demo
against that stand-in for the real binary.

Standard library only (Python 3.11+).
"""

import argparse
import concurrent.futures
import ctypes
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

# Job states after which the demo stops waiting for a job. `review` is not terminal in the API
# (a person may still act), but nothing more happens to it without one.
SETTLED = ("done", "failed", "review", "expired", "canceled")
CHUNK = 100                     # jobs per POST /v1/jobs/bulk
STOP_GRACE_S = 10.0             # SIGTERM, then SIGKILL after this long
MOCK_ARGS = ["--latency", "400ms", "--jitter", "300ms", "--error-rate", "0.03",
             "--rate-429", "0.02", "--seed", "7"]


# ---------------------------------------------------------------------------------------------
# Arguments and configuration.

def parse_args(argv=None):
    ap = argparse.ArgumentParser(
        prog="run_demo.py",
        description="Classify demo/tickets.jsonl through a local Sluice server and a mock model.")
    ap.add_argument("--sluice", default=str(REPO / "build" / "sluice"),
                    help="path to the sluice binary (default: build/sluice)")
    ap.add_argument("--tickets", default=str(HERE / "tickets.jsonl"), help="tickets JSONL file")
    ap.add_argument("--out", default=str(HERE / "out"),
                    help="output directory for results.jsonl and the run's temp dir")
    ap.add_argument("--tasks-dir", default=str(REPO / "tasks"), help="task types directory")
    ap.add_argument("--limit", type=int, default=0, help="submit only the first N tickets (0 = all)")
    ap.add_argument("--timeout", type=float, default=600.0,
                    help="seconds to wait for all jobs to settle (default 600)")
    ap.add_argument("--ready-timeout", type=float, default=30.0,
                    help="seconds to wait for each process to answer its health check")
    ap.add_argument("--keep", action="store_true",
                    help="keep the run's temp dir (config, data, logs) even on success")
    ap.add_argument("--progress", choices=["auto", "bar", "lines"], default="auto",
                    help="progress display: a \\r-updated bar (TTY default) or a line every 2 s")
    ap.add_argument("--self-test", action="store_true",
                    help="run the demo's own checks (no real server needed) and exit")
    args = ap.parse_args(argv)
    if args.limit < 0:
        ap.error("--limit must be >= 0")
    if args.timeout <= 0 or args.ready_timeout <= 0:
        ap.error("timeouts must be positive")
    return args


def free_port():
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def toml_str(value):
    """A TOML basic string. JSON string escapes (\\" \\\\ \\n \\uXXXX ...) are all valid TOML."""
    return json.dumps(str(value), ensure_ascii=False)


def config_text(listen, data_dir, mock_port, tasks_dir):
    """The server's config file (API.md "Configuration")."""
    return "\n".join([
        "# Written by demo/run_demo.py for one demo run.",
        "[server]",
        "listen = %s" % toml_str(listen),
        "data_dir = %s" % toml_str(data_dir),
        "",
        "[[provider]]",
        'name = "mock"',
        "base_url = %s" % toml_str("http://127.0.0.1:%d/v1" % mock_port),
        'timeout = "10s"',
        "max_concurrency = 256",
        "",
        "[[model]]",
        'alias = "fast"',
        'provider = "mock"',
        'id = "gpt-4o-mini"',
        "input_usd_per_mtok = 0.15",
        "output_usd_per_mtok = 0.60",
        "",
        "# For task types that route to a stronger model; the demo's classify_ticket uses \"fast\".",
        "[[model]]",
        'alias = "strong"',
        'provider = "mock"',
        'id = "gpt-4o"',
        "input_usd_per_mtok = 2.50",
        "output_usd_per_mtok = 10.00",
        "",
        "[[queue]]",
        'name = "urgent"',
        "max_concurrency = 16",
        "reserved = 4",
        "",
        "[tasks]",
        "dir = %s" % toml_str(tasks_dir),
        "",
    ])


def load_tickets(path, limit=0):
    tickets = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                t = json.loads(line)
            except ValueError as e:
                raise SystemExit("%s:%d: not JSON: %s" % (path, n, e))
            for key in ("id", "text"):
                if not isinstance(t.get(key), str):
                    raise SystemExit("%s:%d: missing string field %r" % (path, n, key))
            tickets.append(t)
            if limit and len(tickets) == limit:
                break
    return tickets


def job_body(ticket):
    """The classify_ticket job for one ticket. The expected category stays on our side."""
    body = {
        "type": "classify_ticket",
        "input": {"text": ticket["text"]},
        "object_id": ticket["id"],       # dedup_key defaults to classify_ticket:<id>:<version>
        "source": "crm.ticket_body",
        "metadata": {"channel": ticket.get("channel", ""), "customer": ticket.get("customer", "")},
    }
    if ticket.get("urgent"):
        body["queue"] = "urgent"
        body["priority"] = 9
    return body


# ---------------------------------------------------------------------------------------------
# HTTP.

class HttpError(Exception):
    pass


class Http:
    """A keep-alive JSON client for one base URL. Not thread-safe: one per thread."""

    def __init__(self, base_url, timeout=30.0):
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname, u.port or 80
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, timeout=None):
        """Returns (status, headers, parsed JSON or text). Raises OSError when unreachable."""
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            reused = self.conn is not None
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout or self.timeout)
            elif timeout:
                self.conn.timeout = timeout
                if self.conn.sock:
                    self.conn.sock.settimeout(timeout)
            try:
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection the server closed while idle: reconnect once.
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except (OSError, http.client.HTTPException):
                self.close()
                raise
            if resp.getheader("Connection", "").lower() == "close":
                self.close()
            text = raw.decode("utf-8", errors="replace")
            parsed = text
            if "json" in (resp.getheader("Content-Type") or "") or (text[:1] and text[:1] in "{["):
                try:
                    parsed = json.loads(text)
                except ValueError:
                    pass
            return resp.status, resp.headers, parsed
        raise AssertionError("unreachable")


def error_message(body):
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        e = body["error"]
        return "%s: %s" % (e.get("code"), e.get("message"))
    return str(body)[:300]


# ---------------------------------------------------------------------------------------------
# Child processes.

_libc = None
try:
    _libc = ctypes.CDLL(None, use_errno=True)
except OSError:
    pass


def _die_with_parent():
    """Runs in the child between fork and exec: SIGKILL it if the demo dies without cleaning up
    (so a killed demo never leaves a server holding its port)."""
    if _libc is not None:
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Child:
    """A started process whose stdout and stderr go to files in `log_dir`."""

    def __init__(self, name, argv, log_dir):
        self.name = name
        self.argv = [str(a) for a in argv]
        self.stdout_path = Path(log_dir) / (name + ".stdout.log")
        self.stderr_path = Path(log_dir) / (name + ".stderr.log")
        self.proc = None

    def start(self):
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen(
                self.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                start_new_session=True,  # Ctrl-C reaches the demo, which then stops us in order
                preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        return self

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, grace=STOP_GRACE_S):
        """SIGTERM, then SIGKILL after `grace` seconds. Returns the exit code (None if never
        started)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                print("%s did not stop within %.0f s of SIGTERM; killing it" % (self.name, grace),
                      file=sys.stderr)
                self.proc.kill()
                self.proc.wait()
            except ProcessLookupError:
                pass
        return self.proc.returncode

    def stderr_tail(self, lines=30):
        try:
            text = self.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def wait_healthy(child, base_url, path, timeout):
    """Polls GET base_url+path until 200. Raises RuntimeError when the process exits or the
    timeout passes."""
    client = Http(base_url, timeout=2.0)
    deadline = time.monotonic() + timeout
    last = "no answer"
    delay = 0.02
    try:
        while True:
            if not child.running():
                raise RuntimeError("%s exited with code %s before it was ready"
                                   % (child.name, child.proc.returncode if child.proc else "?"))
            try:
                status, _, body = client.request("GET", path)
                if status == 200:
                    return
                last = "HTTP %d %s" % (status, error_message(body))
            except (OSError, http.client.HTTPException) as e:
                last = str(e) or type(e).__name__
            if time.monotonic() >= deadline:
                raise RuntimeError("%s not ready after %.0f s (GET %s: %s)" % (child.name, timeout, path, last))
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------
# Submitting.

def submit_all(client, tickets, chunk=CHUNK, log=print):
    """Submits the tickets in chunks through POST /v1/jobs/bulk. Returns (jobs, errors):
    jobs maps ticket id -> job id; errors maps ticket id -> message for rejected ones."""
    jobs, errors = {}, {}
    for start in range(0, len(tickets), chunk):
        part = tickets[start:start + chunk]
        body = {"jobs": [job_body(t) for t in part]}
        for attempt in range(1, 11):
            status, headers, answer = client.request("POST", "/v1/jobs/bulk", body)
            if status in (429, 503) and attempt < 10:
                wait = _retry_after(headers, default=0.5 * attempt)
                log("bulk submit answered %d; retrying in %.1f s" % (status, wait))
                time.sleep(wait)
                continue
            break
        if status != 200 or not isinstance(answer, dict) or not isinstance(answer.get("jobs"), list):
            raise HttpError("POST /v1/jobs/bulk answered %d: %s" % (status, error_message(answer)))
        items = answer["jobs"]
        if len(items) != len(part):
            raise HttpError("POST /v1/jobs/bulk answered %d items for %d jobs" % (len(items), len(part)))
        for ticket, item in zip(part, items):
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                jobs[ticket["id"]] = item["id"]
            else:
                errors[ticket["id"]] = error_message(item)
    return jobs, errors


def _retry_after(headers, default):
    try:
        return max(0.0, min(float(headers.get("Retry-After")), 30.0))
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------------------------------------
# Progress.

_METRIC_LINE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> list of (name, {label: value}, float). Comments and malformed
    lines are skipped."""
    samples = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _METRIC_LINE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
                  for k, v in _LABEL.findall(m.group(2) or "")}
        samples.append((m.group(1), labels, value))
    return samples


def job_counts_from_metrics(text, metric="sluice_jobs"):
    """Sums `metric` by its status label over all other labels (queues, tenants, types).
    Returns None when the metric is absent."""
    counts, seen = {}, False
    for name, labels, value in parse_metrics(text):
        if name == metric and "status" in labels:
            seen = True
            counts[labels["status"]] = counts.get(labels["status"], 0) + int(value)
    return counts if seen else None


def job_counts_from_list(client):
    """The slow way, when /metrics has no sluice_jobs: page through GET /v1/jobs."""
    counts, after = {}, None
    for _ in range(10000):
        path = "/v1/jobs?limit=1000" + ("&after=" + urllib.parse.quote(after) if after else "")
        status, _, body = client.request("GET", path)
        if status != 200 or not isinstance(body, dict):
            raise HttpError("GET /v1/jobs answered %d: %s" % (status, error_message(body)))
        for job in body.get("data") or []:
            s = job.get("status", "?")
            counts[s] = counts.get(s, 0) + 1
        after = body.get("next")
        if not after:
            break
    return counts


def format_duration(seconds):
    if seconds is None or seconds != seconds or seconds == math.inf:
        return "--"
    seconds = int(round(seconds))
    if seconds < 60:
        return "%ds" % seconds
    if seconds < 3600:
        return "%dm%02ds" % divmod(seconds, 60)
    h, rest = divmod(seconds, 3600)
    return "%dh%02dm" % (h, rest // 60)


def progress_line(counts, total, elapsed, width=30, bar=True):
    """One progress line: settled share as a bar, counts, rate and ETA."""
    settled = sum(counts.get(s, 0) for s in SETTLED)
    settled_shown = min(settled, total)
    rate = settled / elapsed if elapsed > 0 else 0.0
    eta = (total - settled_shown) / rate if rate > 0 else None
    fill = int(width * settled_shown / total) if total else width
    parts = []
    if bar:
        parts.append("[" + "#" * fill + "." * (width - fill) + "]")
    parts.append("%d/%d" % (settled_shown, total))
    parts.append("done %d  failed %d  review %d" % (counts.get("done", 0), counts.get("failed", 0),
                                                    counts.get("review", 0)))
    if counts.get("expired"):
        parts.append("expired %d" % counts["expired"])
    parts.append("running %d  queued %d" % (counts.get("running", 0), counts.get("queued", 0)))
    parts.append("%.1f jobs/s" % rate)
    parts.append("ETA " + (format_duration(eta) if settled_shown < total else "0s"))
    return "  ".join(parts)


def wait_settled(client, total, timeout, mode, started):
    """Shows progress until `total` jobs are settled or `timeout` passes. Returns the last
    counts and whether everything settled."""
    use_bar = mode == "bar" or (mode == "auto" and sys.stdout.isatty())
    told = False
    counts = {}
    last_print = 0.0
    last_len = 0
    deadline = time.monotonic() + timeout
    done = False
    while True:
        status, _, text = client.request("GET", "/metrics")
        found = job_counts_from_metrics(text) if status == 200 and isinstance(text, str) else None
        if found is None:
            # Absent (e.g. the store's stats failed this time): count this round the slow way.
            if not told:
                print("GET /metrics has no sluice_jobs{status=...}; counting through GET /v1/jobs")
                told = True
            found = job_counts_from_list(client)
        counts = found
        done = sum(counts.get(s, 0) for s in SETTLED) >= total
        now = time.monotonic()
        line = progress_line(counts, total, time.time() - started, bar=use_bar)
        if use_bar:
            # Fit the terminal (a wrapped line cannot be redrawn with \r) and blank out the rest
            # of a longer previous line.
            line = line[:max(20, shutil.get_terminal_size((120, 20)).columns - 1)]
            sys.stdout.write("\r" + line + " " * max(0, last_len - len(line)))
            sys.stdout.flush()
            last_len = len(line)
        elif done or now - last_print >= 2.0:
            print(line, flush=True)
            last_print = now
        if done or now >= deadline:
            break
        time.sleep(0.25 if use_bar else 0.5)
    if use_bar:
        sys.stdout.write("\n")
        sys.stdout.flush()
    return counts, done


# ---------------------------------------------------------------------------------------------
# Collecting results.

def parse_time(value):
    """RFC 3339 -> aware datetime, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def fetch_one(client, job_id):
    """GET the job (long-polling once if it is not settled yet) and its result (None if 404)."""
    quoted = urllib.parse.quote(job_id)
    status, _, job = client.request("GET", "/v1/jobs/" + quoted)
    if status == 200 and isinstance(job, dict) and job.get("status") not in SETTLED:
        status, _, job = client.request("GET", "/v1/jobs/%s?wait=30s" % quoted, timeout=40.0)
    if status != 200 or not isinstance(job, dict):
        raise HttpError("GET /v1/jobs/%s answered %d: %s" % (job_id, status, error_message(job)))
    result = job.get("result") if isinstance(job.get("result"), dict) else None
    status, _, body = client.request("GET", "/v1/jobs/%s/result" % quoted)
    if status == 200 and isinstance(body, dict):
        result = body
    elif status != 404 and result is None:
        raise HttpError("GET /v1/jobs/%s/result answered %d: %s" % (job_id, status, error_message(body)))
    return job, result


def fetch_all(base_url, jobs, threads=8):
    """Fetches every job and result with a few keep-alive connections. Returns
    {ticket id: (job, result)}."""
    local = threading.local()
    clients = []
    lock = threading.Lock()

    def work(item):
        ticket_id, job_id = item
        if not hasattr(local, "client"):
            local.client = Http(base_url)
            with lock:
                clients.append(local.client)
        return ticket_id, fetch_one(local.client, job_id)

    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=threads) as pool:
            return dict(pool.map(work, jobs.items()))
    finally:
        for c in clients:
            c.close()


def make_record(ticket, job, result):
    """One line of results.jsonl."""
    output = result.get("output") if result and isinstance(result.get("output"), dict) else {}
    attempts_list = result.get("attempts") if result and isinstance(result.get("attempts"), list) else None
    attempts = len(attempts_list) if attempts_list else int(job.get("attempt") or 0)
    cost = result.get("cost_usd") if result and result.get("cost_usd") is not None else job.get("cost_usd")
    created, finished = parse_time(job.get("created_at")), parse_time(job.get("finished_at"))
    ttr_ms = round((finished - created).total_seconds() * 1000) if created and finished else None
    error = job.get("error") if isinstance(job.get("error"), dict) else None
    return {
        "ticket_id": ticket["id"],
        "job_id": job.get("id"),
        "status": job.get("status"),
        "queue": job.get("queue"),
        "category": output.get("category"),
        "urgent": output.get("urgent"),
        "confidence": output.get("confidence"),
        "summary": output.get("summary"),
        "expected_category": ticket.get("expected_category"),
        "attempts": attempts,
        "cost_usd": float(cost or 0.0),
        "queue_ms": result.get("queue_ms") if result else None,
        "processing_ms": result.get("processing_ms") if result else None,
        "time_to_result_ms": ttr_ms,
        "error": error.get("code") if error else None,
    }


# ---------------------------------------------------------------------------------------------
# The summary.

def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list; None for an empty one."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summarize(records, wall_s, submit_errors=0):
    """The numbers of the summary, from results.jsonl records."""
    categories = {}
    expected = {}
    correct_by = {}
    correct = classified = 0
    for r in records:
        cat = r.get("category") or "(none)"
        categories[cat] = categories.get(cat, 0) + 1
        if r.get("expected_category"):
            expected[r["expected_category"]] = expected.get(r["expected_category"], 0) + 1
        if r.get("category") and r.get("expected_category"):
            classified += 1
            if r["category"] == r["expected_category"]:
                correct += 1
                correct_by[r["category"]] = correct_by.get(r["category"], 0) + 1
    ttr = [r["time_to_result_ms"] for r in records if r.get("time_to_result_ms") is not None]
    ttr_urgent = [r["time_to_result_ms"] for r in records
                  if r.get("queue") == "urgent" and r.get("time_to_result_ms") is not None]
    statuses = {}
    for r in records:
        statuses[r.get("status")] = statuses.get(r.get("status"), 0) + 1
    return {
        "jobs": len(records),
        "submit_errors": submit_errors,
        "categories": categories,
        "expected": expected,
        "correct_by": correct_by,
        "classified": classified,
        "correct": correct,
        "accuracy": correct / classified if classified else None,
        "statuses": statuses,
        "review": statuses.get("review", 0),
        "failed": statuses.get("failed", 0),
        "expired": statuses.get("expired", 0),
        "retries": sum(max(0, (r.get("attempts") or 0) - 1) for r in records),
        "ttr_p50_ms": percentile(ttr, 50), "ttr_p95_ms": percentile(ttr, 95), "ttr_n": len(ttr),
        "urgent_p50_ms": percentile(ttr_urgent, 50), "urgent_p95_ms": percentile(ttr_urgent, 95),
        "urgent_n": len(ttr_urgent),
        "cost_usd": sum(r.get("cost_usd") or 0.0 for r in records),
        "wall_s": wall_s,
        "jobs_per_s": len(records) / wall_s if wall_s > 0 else None,
    }


def _ms(v):
    return "--" if v is None else ("%.2f s" % (v / 1000.0) if v >= 1000 else "%d ms" % v)


def format_summary(s):
    lines = ["", "Summary"]
    names = sorted(set(s["categories"]) | set(s["expected"]),
                   key=lambda c: (c == "(none)", -s["categories"].get(c, 0), c))
    lines.append("  %-18s %8s %9s %8s" % ("category", "jobs", "expected", "correct"))
    for c in names:
        exp = s["expected"].get(c)
        lines.append("  %-18s %8d %9s %8s" % (c, s["categories"].get(c, 0),
                                               "-" if exp is None else exp,
                                               "-" if c == "(none)" else s["correct_by"].get(c, 0)))
    lines.append("")
    if s["accuracy"] is None:
        lines.append("  accuracy          --  (no classified job with an expected category)")
    else:
        lines.append("  accuracy          %.1f %%  (%d of %d classified tickets match expected_category)"
                     % (100.0 * s["accuracy"], s["correct"], s["classified"]))
    status_text = ", ".join("%s %d" % (k, v) for k, v in sorted(s["statuses"].items(), key=lambda kv: str(kv[0])))
    lines.append("  jobs              %d  (%s)" % (s["jobs"], status_text))
    if s["submit_errors"]:
        lines.append("  rejected          %d at submit" % s["submit_errors"])
    lines.append("  review            %d" % s["review"])
    lines.append("  retries           %d  (attempts beyond the first)" % s["retries"])
    lines.append("  failed            %d" % s["failed"])
    if s["expired"]:
        lines.append("  expired           %d" % s["expired"])
    lines.append("  time to result    p50 %s   p95 %s   (all, n=%d)"
                 % (_ms(s["ttr_p50_ms"]), _ms(s["ttr_p95_ms"]), s["ttr_n"]))
    lines.append("  urgent queue      p50 %s   p95 %s   (n=%d)"
                 % (_ms(s["urgent_p50_ms"]), _ms(s["urgent_p95_ms"]), s["urgent_n"]))
    lines.append("  total cost        $%.6f" % s["cost_usd"])
    lines.append("  wall time         %.1f s, %s jobs/s" % (s["wall_s"], "--" if s["jobs_per_s"] is None
                                                          else "%.1f" % s["jobs_per_s"]))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The demo.

class Interrupted(Exception):
    pass


def _on_sigterm(signum, frame):
    raise Interrupted("signal %d" % signum)


def run(args):
    sluice = Path(args.sluice)
    if not sluice.is_file() or not os.access(sluice, os.X_OK):
        print("no executable sluice binary at %s (run `make build`, or pass --sluice)" % sluice, file=sys.stderr)
        return 2
    tickets = load_tickets(args.tickets, args.limit)
    if not tickets:
        print("no tickets in %s" % args.tickets, file=sys.stderr)
        return 2
    by_id = {t["id"]: t for t in tickets}
    if len(by_id) != len(tickets):
        print("duplicate ticket ids in %s" % args.tickets, file=sys.stderr)
        return 2

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=out))
    data_dir = run_dir / "data"
    data_dir.mkdir()
    mock_port, server_port = free_port(), free_port()
    while server_port == mock_port:
        server_port = free_port()
    config_path = run_dir / "sluice.toml"
    config_path.write_text(config_text("127.0.0.1:%d" % server_port, str(data_dir), mock_port,
                                       str(Path(args.tasks_dir).resolve())), encoding="utf-8")
    mock_url = "http://127.0.0.1:%d" % mock_port
    server_url = "http://127.0.0.1:%d" % server_port

    mock = Child("mock-llm", [sluice, "mock-llm", "--listen", "127.0.0.1:%d" % mock_port] + MOCK_ARGS, run_dir)
    server = Child("sluice", [sluice, "serve", "--config", config_path], run_dir)
    client = Http(server_url)
    ok = False
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        print("Sluice demo: %d tickets, run dir %s" % (len(tickets), run_dir))
        mock.start()
        wait_healthy(mock, mock_url, "/v1/models", args.ready_timeout)
        print("  mock-llm  %s  (%s)" % (mock_url, " ".join(MOCK_ARGS)))
        server.start()
        wait_healthy(server, server_url, "/healthz", args.ready_timeout)
        print("  sluice    %s  (config %s)" % (server_url, config_path))

        started = time.time()
        jobs, errors = submit_all(client, tickets)
        submit_s = time.time() - started
        print("Submitted %d jobs in %.2f s (%d rejected), %d to the urgent queue"
              % (len(jobs), submit_s, len(errors),
                 sum(1 for tid in jobs if by_id[tid].get("urgent"))))
        for tid, msg in list(errors.items())[:5]:
            print("  rejected %s: %s" % (tid, msg))
        if not jobs:
            raise HttpError("the server accepted no job")

        counts, settled = wait_settled(client, len(jobs), args.timeout, args.progress, started)
        wall_s = time.time() - started
        if not settled:
            print("Not all jobs settled within %.0f s; collecting what there is." % args.timeout)

        fetched = fetch_all(server_url, jobs)
        records = [make_record(by_id[tid], job, result) for tid, (job, result) in
                   sorted(fetched.items(), key=lambda kv: kv[0])]
        results_path = out / "results.jsonl"
        with open(results_path, "w", encoding="utf-8", newline="\n") as f:
            for r in records:
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
        summary = summarize(records, wall_s, submit_errors=len(errors))
        print(format_summary(summary))
        print("  results           %s" % results_path)
        unsettled = sum(1 for r in records if r["status"] not in SETTLED)
        ok = settled and not errors and unsettled == 0
        return 0 if ok else 1
    except (RuntimeError, HttpError, OSError, http.client.HTTPException) as e:
        print("\ndemo failed: %s" % e, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, Interrupted):
        print("\ninterrupted; stopping", file=sys.stderr)
        return 130
    finally:
        client.close()
        signal.signal(signal.SIGTERM, previous)
        server_code = server.stop()
        mock.stop()
        if not ok:
            for child in (server, mock):
                tail = child.stderr_tail()
                if child.proc is not None and tail:
                    print("---- %s stderr (last lines; exit code %s) ----\n%s"
                          % (child.name, child.proc.returncode, tail), file=sys.stderr)
        if server_code not in (None, 0):
            print("sluice serve exited with code %s" % server_code, file=sys.stderr)
        if ok and not args.keep:
            shutil.rmtree(run_dir, ignore_errors=True)
        else:
            print("run dir kept: %s" % run_dir, file=sys.stderr if not ok else sys.stdout)


# ---------------------------------------------------------------------------------------------
# Self-test.

def self_test():
    import contextlib
    import io
    import tomllib
    import unittest

    class DemoSelfTest(unittest.TestCase):
        def test_args_defaults_and_overrides(self):
            a = parse_args([])
            self.assertTrue(a.sluice.endswith("build/sluice"))
            self.assertEqual(a.progress, "auto")
            a = parse_args(["--sluice", "/x/sluice", "--limit", "20", "--timeout", "5", "--progress", "lines"])
            self.assertEqual((a.sluice, a.limit, a.timeout, a.progress), ("/x/sluice", 20, 5.0, "lines"))
            with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
                parse_args(["--limit", "-1"])

        def test_config_is_valid_toml_with_the_contract_keys(self):
            text = config_text("127.0.0.1:1234", '/tmp/we"ird dir', 4321, "/repo/tasks")
            c = tomllib.loads(text)
            self.assertEqual(c["server"], {"listen": "127.0.0.1:1234", "data_dir": '/tmp/we"ird dir'})
            self.assertEqual(c["provider"], [{"name": "mock", "base_url": "http://127.0.0.1:4321/v1",
                                              "timeout": "10s", "max_concurrency": 256}])
            fast = [m for m in c["model"] if m["alias"] == "fast"][0]
            self.assertEqual(fast, {"alias": "fast", "provider": "mock", "id": "gpt-4o-mini",
                                    "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60})
            self.assertEqual(c["queue"], [{"name": "urgent", "max_concurrency": 16, "reserved": 4}])
            self.assertEqual(c["tasks"], {"dir": "/repo/tasks"})

        def test_free_port_is_bindable(self):
            p = free_port()
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))

        def test_job_body(self):
            b = job_body({"id": "T-1", "channel": "chat", "customer": "Ann", "text": "hi",
                          "expected_category": "other", "urgent": True})
            self.assertEqual(b["type"], "classify_ticket")
            self.assertEqual(b["object_id"], "T-1")
            self.assertEqual((b["queue"], b["priority"]), ("urgent", 9))
            self.assertEqual(b["metadata"], {"channel": "chat", "customer": "Ann"})
            self.assertNotIn("expected_category", json.dumps(b))
            plain = job_body({"id": "T-2", "text": "x", "urgent": False})
            self.assertNotIn("queue", plain)
            self.assertNotIn("priority", plain)

        def test_metrics_counts_sum_over_queues(self):
            text = "\n".join([
                "# HELP sluice_jobs Jobs by queue and status.",
                "# TYPE sluice_jobs gauge",
                'sluice_jobs{queue="default",status="done"} 120',
                'sluice_jobs{queue="urgent",status="done"} 3',
                'sluice_jobs{status="failed",queue="default"} 2',
                'sluice_jobs{queue="default",status="queued"} 7.0',
                'sluice_jobs_total{queue="default",status="done"} 999',
                'sluice_other{status="done"} 5',
                "garbage line {",
            ])
            self.assertEqual(job_counts_from_metrics(text), {"done": 123, "failed": 2, "queued": 7})
            self.assertIsNone(job_counts_from_metrics("sluice_up 1\n"))
            self.assertEqual(parse_metrics('m{a="x\\"y"} 1')[0][1], {"a": 'x"y'})

        def test_progress_line(self):
            line = progress_line({"done": 40, "failed": 5, "review": 5, "queued": 50}, 100, 10.0, width=10)
            self.assertIn("[#####.....]", line)
            self.assertIn("50/100", line)
            self.assertIn("done 40  failed 5  review 5", line)
            self.assertIn("5.0 jobs/s", line)
            self.assertIn("ETA 10s", line)
            plain = progress_line({}, 10, 0.0, bar=False)
            self.assertNotIn("[", plain)
            self.assertIn("ETA --", plain)

        def test_percentile_nearest_rank(self):
            self.assertIsNone(percentile([], 50))
            self.assertEqual(percentile([5], 95), 5)
            vals = list(range(1, 101))
            self.assertEqual(percentile(vals, 50), 50)
            self.assertEqual(percentile(vals, 95), 95)
            self.assertEqual(percentile([3, 1, 2, 4], 50), 2)
            self.assertEqual(percentile([3, 1, 2, 4], 100), 4)

        def test_record_from_job_and_result(self):
            ticket = {"id": "T-9", "expected_category": "fraud", "urgent": True}
            job = {"id": "job_1", "status": "done", "queue": "urgent", "attempt": 2,
                   "created_at": "2026-11-29T12:00:00.000Z", "finished_at": "2026-11-29T12:00:01.250Z",
                   "cost_usd": 0.00001}
            result = {"output": {"category": "fraud", "urgent": True, "confidence": 0.9, "summary": "s"},
                      "cost_usd": 0.00002, "queue_ms": 10, "processing_ms": 1200,
                      "attempts": [{"n": 1, "outcome": "http_500"}, {"n": 2, "outcome": "ok"}]}
            r = make_record(ticket, job, result)
            self.assertEqual(r["category"], "fraud")
            self.assertEqual(r["attempts"], 2)
            self.assertEqual(r["cost_usd"], 0.00002)
            self.assertEqual(r["time_to_result_ms"], 1250)
            self.assertEqual((r["queue_ms"], r["processing_ms"]), (10, 1200))
            failed = make_record(ticket, {"id": "job_2", "status": "failed", "attempt": 3,
                                          "created_at": "2026-11-29T12:00:00Z", "finished_at": None,
                                          "error": {"code": "provider_error", "message": "x"}}, None)
            self.assertIsNone(failed["category"])
            self.assertEqual(failed["attempts"], 3)
            self.assertIsNone(failed["time_to_result_ms"])
            self.assertEqual(failed["error"], "provider_error")

        def test_summary_math(self):
            def rec(cat, exp, status="done", attempts=1, ttr=100, queue="default", cost=0.001):
                return {"category": cat, "expected_category": exp, "status": status, "attempts": attempts,
                        "time_to_result_ms": ttr, "queue": queue, "cost_usd": cost}
            records = [rec("fraud", "fraud", queue="urgent", ttr=50),
                       rec("fraud", "card_blocked", attempts=2, ttr=300),
                       rec("other", "other", status="review", ttr=None),
                       rec(None, "login_problem", status="failed", attempts=3, ttr=900, cost=0.0),
                       rec("login_problem", "login_problem", queue="urgent", ttr=70)]
            s = summarize(records, wall_s=2.0, submit_errors=1)
            self.assertEqual(s["categories"], {"fraud": 2, "other": 1, "(none)": 1, "login_problem": 1})
            self.assertEqual((s["correct"], s["classified"]), (3, 4))
            self.assertAlmostEqual(s["accuracy"], 0.75)
            self.assertEqual((s["review"], s["failed"], s["retries"]), (1, 1, 3))
            self.assertEqual((s["ttr_n"], s["ttr_p50_ms"], s["ttr_p95_ms"]), (4, 70, 900))
            self.assertEqual((s["urgent_n"], s["urgent_p50_ms"], s["urgent_p95_ms"]), (2, 50, 70))
            self.assertAlmostEqual(s["cost_usd"], 0.004)
            self.assertAlmostEqual(s["jobs_per_s"], 2.5)
            text = format_summary(s)
            self.assertIn("75.0 %", text)
            self.assertIn("3 of 4", text)
            self.assertIn("rejected          1", text)
            self.assertIn("p50 50 ms   p95 70 ms   (n=2)", text)

        def test_tickets_file_is_reproducible(self):
            sys.path.insert(0, str(HERE))
            try:
                import make_tickets
            finally:
                sys.path.pop(0)
            path = HERE / "tickets.jsonl"
            self.assertEqual(path.read_bytes(), make_tickets.render(make_tickets.generate()).encode("utf-8"))
            tickets = load_tickets(path)
            self.assertEqual(len(tickets), 500)
            self.assertEqual(len({t["id"] for t in tickets}), 500)
            self.assertEqual(sum(1 for t in tickets if t["urgent"]), 15)
            cats = {t["expected_category"] for t in tickets}
            self.assertEqual(cats, {"double_charge", "missing_transfer", "early_repayment", "card_blocked",
                                    "login_problem", "phone_change", "fraud", "other"})
            russian = sum(1 for t in tickets if re.search("[а-яё]", t["text"], re.I))
            self.assertTrue(150 <= russian <= 200, russian)
            self.assertEqual({t["channel"] for t in tickets}, {"email", "chat", "app", "phone"})

        def test_counting_through_the_job_list(self):
            fake = HERE / "fake_sluice.py"
            if not fake.exists():
                self.skipTest("demo/fake_sluice.py not present")
            with tempfile.TemporaryDirectory() as tmp:
                port = free_port()
                cfg = Path(tmp, "c.toml")
                cfg.write_text(config_text("127.0.0.1:%d" % port, tmp + "/data", 1, "/nowhere"))
                child = Child("fake", [fake, "serve", "--config", cfg], tmp).start()
                client = Http("http://127.0.0.1:%d" % port)
                try:
                    wait_healthy(child, "http://127.0.0.1:%d" % port, "/healthz", 20)
                    tickets = [{"id": "T-%d" % i, "text": "card blocked %d" % i} for i in range(250)]
                    jobs, errors = submit_all(client, tickets, chunk=100)
                    self.assertEqual((len(jobs), errors), (250, {}))
                    deadline = time.monotonic() + 30
                    while True:  # the fake caps a page at 100: every page is counted
                        counts = job_counts_from_list(client)
                        self.assertEqual(sum(counts.values()), 250)
                        if sum(counts.get(s, 0) for s in SETTLED) == 250 or time.monotonic() > deadline:
                            break
                        time.sleep(0.05)
                    self.assertEqual(sum(counts.get(s, 0) for s in SETTLED), 250)
                finally:
                    client.close()
                    self.assertEqual(child.stop(), 0)

        def test_end_to_end_against_the_fake_server(self):
            fake = HERE / "fake_sluice.py"
            if not fake.exists():
                self.skipTest("demo/fake_sluice.py not present")
            with tempfile.TemporaryDirectory() as out:
                proc = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--sluice", str(fake), "--out", out,
                     "--limit", "150", "--timeout", "60", "--progress", "lines"],
                    capture_output=True, text=True, timeout=120)
                self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
                self.assertIn("accuracy", proc.stdout)
                lines = Path(out, "results.jsonl").read_text(encoding="utf-8").splitlines()
                self.assertEqual(len(lines), 150)
                recs = [json.loads(x) for x in lines]
                self.assertTrue(all(r["status"] in SETTLED for r in recs))
                self.assertTrue(any(r["queue"] == "urgent" for r in recs))
                # The run dir (config, data, logs) is removed after a successful run.
                self.assertEqual([p.name for p in Path(out).iterdir()], ["results.jsonl"])

    suite = unittest.defaultTestLoader.loadTestsFromTestCase(DemoSelfTest)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


def main(argv=None):
    args = parse_args(argv)
    if args.self_test:
        return self_test()
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
