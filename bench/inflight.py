#!/usr/bin/env python3
"""Many calls in flight on one node: completed jobs/s, peak RSS and errors with `worker.concurrency`
calls held open against a mock-llm that answers after a fixed latency (1 s by default).

Issue target: 10 000 concurrent in-flight calls against mock-llm with 1 s latency on one node:
>= 8 000 completed jobs/s, RSS <= 300 MiB, no errors.

One run, per concurrency C (default 10000, then 20000 as a knee check):
  1. start `sluice mock-llm --latency 1s` and `sluice serve` (durable SQLite store, the default)
     with worker.concurrency = default-queue max_concurrency = provider max_concurrency = C;
  2. submit N jobs (classify_ticket on model "fast" -> the mock) through POST /v1/jobs/bulk,
     1000 per request, from several client threads, bodies encoded before the clock starts;
  3. poll /metrics every 100 ms (sluice_running_jobs, sluice_jobs{status}, sluice_queue_depth)
     and /proc of both processes until all N jobs are settled.
Figures of a run:
  submit      N / (last bulk answer - first bulk request), jobs/s (submission overlaps the work)
  steady      completed jobs/s from the first sample with in-flight >= 99% of C (t_full) to the
              first sample with queue depth 0 (t_drained: nothing left to claim, in-flight starts
              to fall): (done(t_drained) - done(t_full)) / (t_drained - t_full)
  end-to-end  N / (last job settled - first bulk request)
  peak in-flight, peak RSS (VmHWM of the sluice process), CPU of sluice and mock-llm over the
  steady window (1.0 = one core), the busiest sluice threads over that window, and errors:
  failed/expired jobs, HTTP errors on submit, non-ok provider calls and non-ok mock outcomes.
Each configuration runs --runs times (default 3); the summary prints the median with [min..max].
No pass/fail: it prints figures. Everything talks to 127.0.0.1 only.
"""
import argparse
import http.client
import json
import os
import resource
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------------------------
# /proc readings.

def proc_cpu_seconds(pid, tid=None):
    """utime + stime of a process (or one of its threads), in seconds."""
    path = "/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def thread_cpu(pid):
    """{tid: (name, cpu seconds)} for every thread of pid."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            out[int(tid)] = (name, proc_cpu_seconds(pid, int(tid)))
        except OSError:
            pass
    return out


def vm_kib(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def raise_fd_limit(want):
    """Children inherit our RLIMIT_NOFILE: 20 000 calls in flight need more than 20 000 fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        return want
    except (ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard


# ---------------------------------------------------------------------------------------------
# Load.

def bulk_bodies(n, tag, per_request):
    """Pre-encoded POST /v1/jobs/bulk bodies, so the client's JSON work is off the clock."""
    bodies = []
    for start in range(0, n, per_request):
        jobs = [{"type": "classify_ticket",
                 "input": {"text": "I was charged twice for one purchase, ticket %s-%d" % (tag, i)}}
                for i in range(start, min(n, start + per_request))]
        bodies.append(json.dumps({"jobs": jobs}).encode())
    return bodies


class Submitter:
    """Sends the bodies from `clients` threads, each over its own keep-alive connection."""

    def __init__(self, port, bodies, clients):
        self.port, self.bodies, self.clients = port, bodies, clients
        self.errors = []
        self.started = self.finished = None
        self._next = 0
        self._lock = threading.Lock()
        self._threads = []

    def _take(self):
        with self._lock:
            if self._next >= len(self.bodies):
                return None
            self._next += 1
            return self.bodies[self._next - 1]

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            while (body := self._take()) is not None:
                conn.request("POST", "/v1/jobs/bulk", body=body, headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                raw = resp.read()
                if resp.status != 200:
                    self.errors.append("HTTP %d %s" % (resp.status, raw[:200]))
                    continue
                bad = [j for j in json.loads(raw)["jobs"] if "error" in j]
                if bad:
                    self.errors.append("%d items rejected, e.g. %s" % (len(bad), bad[0]))
        except (OSError, http.client.HTTPException) as e:
            self.errors.append(repr(e))
        finally:
            conn.close()

    def start(self):
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for t in self._threads:
            t.start()

    def join(self):
        for t in self._threads:
            t.join()
        self.finished = time.monotonic()


class Sample:
    __slots__ = ("t", "running", "done", "failed", "expired", "queued", "settled", "rss_kib", "cpu", "mock_cpu",
                 "threads", "provider_calls")


def take_sample(conn, sluice_pid, mock_pid, with_threads=False):
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    text = resp.read().decode()
    m = harness.parse_metrics(text)
    s = Sample()
    s.t = time.monotonic()
    s.running = harness.metric_sum(m, "sluice_running_jobs") or 0
    s.done = harness.metric_sum(m, "sluice_jobs", status="done") or 0
    s.failed = harness.metric_sum(m, "sluice_jobs", status="failed") or 0
    s.expired = harness.metric_sum(m, "sluice_jobs", status="expired") or 0
    s.queued = harness.metric_sum(m, "sluice_queue_depth") or 0
    s.settled = sum(harness.metric_sum(m, "sluice_jobs", status=st) or 0 for st in harness.SETTLED)
    s.rss_kib = vm_kib(sluice_pid, "VmRSS")
    s.cpu = proc_cpu_seconds(sluice_pid)
    s.mock_cpu = proc_cpu_seconds(mock_pid)
    s.threads = thread_cpu(sluice_pid) if with_threads else None
    s.provider_calls = {dict(ls).get("outcome"): v for (n, ls), v in m.items() if n == "sluice_provider_calls_total"}
    return s


def one_run(args, concurrency, jobs, run_no, tmp):
    mock = harness.MockLlm(latency=args.latency, threads=args.mock_threads, tmp_dir=tmp / "mock",
                           bin=args.bin)
    worker = {"concurrency": concurrency, "lease": "30s", "heartbeat": "5s", "poll": "500ms",
              "retry_base": "1s", "retry_max": "5m", "grace": "5s"}
    queues = [{"name": "default", "max_concurrency": concurrency, "reserved": 0}]
    server_table = {"io_threads": args.io_threads} if args.io_threads else {}
    bodies = bulk_bodies(jobs, "r%d" % run_no, 1000)
    with mock:
        providers = [{"name": "mock", "base_url": mock.base_url, "timeout": "30s", "max_concurrency": concurrency}]
        server = harness.Server(mock=mock, providers=providers, worker=worker, queues=queues, server=server_table,
                                tmp_dir=tmp / "sluice", bin=args.bin)
        with server:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            base_cpu, base_mock_cpu = proc_cpu_seconds(server.pid), proc_cpu_seconds(mock.pid)
            sub = Submitter(server.port, bodies, args.clients)
            sub.start()
            samples = []
            full = drained = None
            deadline = time.monotonic() + args.run_timeout
            while True:
                need_threads = full is None or drained is None
                s = take_sample(conn, server.pid, mock.pid, with_threads=need_threads)
                samples.append(s)
                if full is None and s.running >= 0.99 * concurrency:
                    full = s
                if full is not None and drained is None and s.queued == 0 and s.settled + s.running >= jobs:
                    drained = s
                if s.settled >= jobs or time.monotonic() > deadline:
                    break
                time.sleep(args.interval)
            sub.join()
            conn.close()
            mock_stats = mock.stats()
            hwm = vm_kib(server.pid, "VmHWM")
        last = samples[-1]
    r = {"concurrency": concurrency, "jobs": jobs}
    r["submit_s"] = sub.finished - sub.started
    r["submit_rate"] = jobs / r["submit_s"]
    r["submit_errors"] = sub.errors
    r["settled"] = last.settled
    r["timed_out"] = last.settled < jobs
    r["e2e_rate"] = last.done / (last.t - sub.started) if last.t > sub.started else 0
    r["peak_in_flight"] = max(s.running for s in samples)
    r["rss_mib"] = hwm / 1024
    r["rss_end_mib"] = last.rss_kib / 1024
    r["failed"] = last.failed
    r["expired"] = last.expired
    r["provider_calls"] = last.provider_calls
    r["mock_outcomes"] = {k: v for k, v in mock_stats["outcomes"].items() if v}
    r["mock_peak_in_flight"] = mock_stats["peak_in_flight"]
    r["cpu_total"] = last.cpu - base_cpu
    r["mock_cpu_total"] = last.mock_cpu - base_mock_cpu
    if full is not None and drained is not None and drained.t > full.t:
        w = drained.t - full.t
        r["window_s"] = w
        r["steady_rate"] = (drained.done - full.done) / w
        r["cpu"] = (drained.cpu - full.cpu) / w
        r["mock_cpu"] = (drained.mock_cpu - full.mock_cpu) / w
        r["reached_full_after_s"] = full.t - sub.started
        tops = []
        for tid, (name, sec) in drained.threads.items():
            before = full.threads.get(tid, (name, 0.0))[1]
            tops.append(((sec - before) / w, name, tid))
        tops.sort(reverse=True)
        r["threads"] = tops[:args.top_threads]
    else:
        r["window_s"] = 0
        r["steady_rate"] = None
    return r


# ---------------------------------------------------------------------------------------------
# Output.

def fmt_run(r):
    errors = r["failed"] + r["expired"] + len(r["submit_errors"])
    bad_calls = {k: v for k, v in r["provider_calls"].items() if k != "ok" and v}
    bad_mock = {k: v for k, v in r["mock_outcomes"].items() if k != "ok"}
    lines = []
    steady = "%7.0f jobs/s over %.1f s" % (r["steady_rate"], r["window_s"]) if r["steady_rate"] else \
        "   n/a (in-flight never reached 99%% of %d)" % r["concurrency"]
    lines.append("  steady %s | e2e %6.0f jobs/s | submit %6.0f jobs/s (%.1f s) | peak in-flight %d"
                 " (mock saw %d) | RSS peak %.0f MiB (end %.0f)"
                 % (steady, r["e2e_rate"], r["submit_rate"], r["submit_s"], r["peak_in_flight"],
                    r["mock_peak_in_flight"], r["rss_mib"], r["rss_end_mib"]))
    if r["steady_rate"]:
        lines.append("    CPU in window: sluice %.2f cores, mock-llm %.2f cores; full after %.1f s; busiest sluice "
                     "threads: %s" % (r["cpu"], r["mock_cpu"], r["reached_full_after_s"],
                                      ", ".join("%s/%d %.2f" % (n, tid, c) for c, n, tid in r["threads"])))
    lines.append("    errors: failed %d, expired %d, submit %d%s, provider non-ok %s, mock non-ok %s%s"
                 % (r["failed"], r["expired"], len(r["submit_errors"]),
                    (" (" + r["submit_errors"][0] + ")") if r["submit_errors"] else "",
                    bad_calls or 0, bad_mock or 0,
                    "  ** TIMED OUT: %d of %d settled **" % (r["settled"], r["jobs"]) if r["timed_out"] else ""))
    if errors:
        lines.append("    (%d error(s) in this run)" % errors)
    return "\n".join(lines)


def med(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return (fmt + " [" + fmt + ".." + fmt + "]") % (statistics.median(values), min(values), max(values))


def summary(concurrency, runs):
    print("C=%-6d %d runs, median [min..max]:" % (concurrency, len(runs)))
    print("  steady completed   %s jobs/s" % med([r["steady_rate"] for r in runs], "%.0f"))
    print("  end-to-end         %s jobs/s" % med([r["e2e_rate"] for r in runs], "%.0f"))
    print("  submit (bulk)      %s jobs/s" % med([r["submit_rate"] for r in runs], "%.0f"))
    print("  peak in-flight     %s" % med([r["peak_in_flight"] for r in runs], "%.0f"))
    print("  peak RSS (VmHWM)   %s MiB" % med([r["rss_mib"] for r in runs], "%.0f"))
    print("  sluice CPU         %s cores (steady window)" % med([r.get("cpu") for r in runs], "%.2f"))
    print("  mock-llm CPU       %s cores (steady window)" % med([r.get("mock_cpu") for r in runs], "%.2f"))
    errs = [r["failed"] + r["expired"] + len(r["submit_errors"]) +
            sum(v for k, v in r["provider_calls"].items() if k != "ok") +
            sum(v for k, v in r["mock_outcomes"].items() if k != "ok") for r in runs]
    print("  errors             %s (failed+expired jobs, submit errors, non-ok calls)" % med(errs, "%.0f"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--concurrency", default="10000,20000", help="comma-separated worker.concurrency values")
    ap.add_argument("--jobs", type=int, default=0, help="jobs per run (default: 5 x concurrency)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--latency", default="1s", help="mock-llm latency")
    ap.add_argument("--mock-threads", type=int, default=2)
    ap.add_argument("--io-threads", type=int, default=0, help="server.io_threads (default: the server's)")
    ap.add_argument("--clients", type=int, default=4, help="bulk submit threads")
    ap.add_argument("--interval", type=float, default=0.1, help="metrics poll period, seconds")
    ap.add_argument("--run-timeout", type=float, default=60.0)
    ap.add_argument("--top-threads", type=int, default=4)
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    levels = [int(c) for c in args.concurrency.split(",") if c]
    fds = raise_fd_limit(max(levels) * 2 + 4096)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-bench-inflight-%d" % os.getpid())
    print("sluice inflight bench: %s, mock latency %s, %d CPU(s), fd limit %d, binary %s"
          % (time.strftime("%Y-%m-%d %H:%M:%S"), args.latency, os.cpu_count(), fds, args.bin))
    results = {}
    try:
        for c in levels:
            jobs = args.jobs or 5 * c
            results[c] = []
            for i in range(args.runs):
                print("C=%d run %d/%d: %d jobs" % (c, i + 1, args.runs, jobs), flush=True)
                r = one_run(args, c, jobs, i, tmp / ("c%d-r%d" % (c, i)))
                print(fmt_run(r), flush=True)
                results[c].append(r)
    finally:
        if not harness.KEEP_TMP:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    for c in levels:
        summary(c, results[c])


if __name__ == "__main__":
    main()
