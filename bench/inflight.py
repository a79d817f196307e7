#!/usr/bin/env python3
"""Many calls in flight on one node: completed jobs/s, peak RSS and errors with `worker.concurrency`
calls held open against a mock-llm that answers after a fixed latency (1 s by default).

Issue target: 10 000 concurrent in-flight calls against mock-llm with 1 s latency on one node:
>= 8 000 completed jobs/s, RSS <= 300 MiB, no errors.

One run, per concurrency C (default 10000, then the knee check at 20000, or as close to it as the
open-files limit allows):
  1. start `sluice mock-llm --latency 1s` and `sluice serve` (durable SQLite store, the default)
     with worker.concurrency = default-queue max_concurrency = provider max_concurrency = C;
  2. submit N jobs (classify_ticket on model "fast" -> the mock) through POST /v1/jobs/bulk,
     1000 per request, from several client threads, bodies encoded before the clock starts.
     Default ("prefill"): every job carries the same run_at a little after the expected end of
     the submission, so the store is filled first and the workers then run alone (the submit
     rate is measured and printed, and a run says so if submission was still going at run_at).
     --overlap: jobs are due at once and submission runs alongside the work;
  3. poll /metrics every 100 ms (sluice_running_jobs, sluice_jobs{status}, sluice_queue_depth)
     and /proc of both processes; the run ends when the steady window is complete, then both
     processes are killed (nothing is left to drain).
Figures of a run:
  steady      completed jobs/s over the steady window: it starts one mock latency after the first
              sample with in-flight >= 99% of C (during that first latency the answers coming
              back are those of the ramp, fewer than C per latency), and lasts --window seconds,
              or ends earlier at the first sample with queue depth 0 (nothing left to claim,
              in-flight starts to fall): delta done / delta t
  submit      N / (last bulk answer - first bulk request), jobs/s
  peak in-flight (sluice's count, and the mock's own peak of open requests), peak RSS (VmHWM of
  the sluice process), CPU of sluice and mock-llm over the steady window (1.0 = one core), the
  busiest sluice threads over that window, and errors: failed/expired jobs, HTTP errors on submit,
  non-ok provider calls and non-ok mock outcomes.
Each configuration runs --runs times (default 3); the summary prints the median with [min..max].
No pass/fail: it prints figures. Everything talks to 127.0.0.1 only.
"""
import argparse
import http.client
import os
import resource
import shutil
import statistics
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402
from jobs import bulk_bodies, post_bulk  # noqa: E402
from machine import MachineCpu, binary_note, proc_cpu_seconds, thread_cpu, vm_kib  # noqa: E402


def thread_roles(pid, tids, io_threads):
    """{tid: label}. Sluice's threads are all named "sluice"; `serve` creates them in this order
    (tids grow with creation): main, the libcurl client's thread (https providers; plain http://
    calls run on the event loop since the Asio client), the finish group commit, the submit group
    commit, the event-loop threads ("io"), the scheduler. When the count does not match that layout,
    threads are labelled by creation rank (#1 = the first after main)."""
    order = sorted(tids)
    roles = ["main", "curl", "finish-commit", "submit-commit"] + ["io"] * io_threads + ["scheduler"]
    if len(order) != len(roles):
        roles = ["main"] + ["#%d" % i for i in range(1, len(order))]
    return {tid: role for tid, role in zip(order, roles)}


def raise_fd_limit(want):
    """Children inherit our RLIMIT_NOFILE; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= want:
        return soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
        return want
    except (ValueError, OSError):   # no CAP_SYS_RESOURCE: as far as the hard limit goes
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard


# ---------------------------------------------------------------------------------------------
# Load.

def rfc3339(epoch_seconds):
    return datetime.fromtimestamp(epoch_seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


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
                error = post_bulk(conn, body)
                if error:
                    self.errors.append(error)
        except (OSError, http.client.HTTPException) as e:
            self.errors.append(repr(e))
        finally:
            conn.close()

    def start(self):
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for t in self._threads:
            t.start()

    def running(self):
        return any(t.is_alive() for t in self._threads)

    def join(self):
        for t in self._threads:
            t.join()
        if self.finished is None:
            self.finished = time.monotonic()


class Sample:
    __slots__ = ("t", "running", "done", "failed", "expired", "queued", "cpu", "mock_cpu", "threads",
                 "provider_calls", "client_cpu", "machine")


def take_sample(conn, sluice_pid, mock_pid, with_threads):
    conn.request("GET", "/metrics")
    resp = conn.getresponse()
    m = harness.parse_metrics(resp.read().decode())
    s = Sample()
    s.t = time.monotonic()
    s.running = harness.metric_sum(m, "sluice_running_jobs") or 0
    s.done = harness.metric_sum(m, "sluice_jobs", status="done") or 0
    s.failed = harness.metric_sum(m, "sluice_jobs", status="failed") or 0
    s.expired = harness.metric_sum(m, "sluice_jobs", status="expired") or 0
    s.queued = harness.metric_sum(m, "sluice_queue_depth") or 0
    s.cpu = proc_cpu_seconds(sluice_pid)
    s.mock_cpu = proc_cpu_seconds(mock_pid)
    s.threads = thread_cpu(sluice_pid) if with_threads else None
    ru = resource.getrusage(resource.RUSAGE_SELF)
    s.client_cpu = ru.ru_utime + ru.ru_stime
    s.machine = MachineCpu()
    s.provider_calls = {dict(ls).get("outcome"): v for (n, ls), v in m.items() if n == "sluice_provider_calls_total"}
    return s


def one_run(args, concurrency, jobs, run_no, tmp):
    mock = harness.MockLlm(latency=args.latency, threads=args.mock_threads, tmp_dir=tmp / "mock", bin=args.bin)
    worker = {"concurrency": concurrency, "lease": "30s", "heartbeat": "5s", "poll": "500ms",
              "retry_base": "1s", "retry_max": "5m", "grace": "5s"}
    queues = [{"name": "default", "max_concurrency": concurrency, "reserved": 0}]
    server_table = {"io_threads": args.io_threads} if args.io_threads else {}
    r = {"concurrency": concurrency, "jobs": jobs, "series": []}
    with mock:
        providers = [{"name": "mock", "base_url": mock.base_url, "timeout": "30s", "max_concurrency": concurrency}]
        server = harness.Server(mock=mock, providers=providers, worker=worker, queues=queues, server=server_table,
                                tmp_dir=tmp / "sluice", bin=args.bin)
        with server:
            due_wall = None
            if not args.overlap:
                # All jobs due at once, after the submission is expected to be over.
                due_wall = time.time() + 1.0 + jobs / args.assumed_submit_rate
            bodies = bulk_bodies(jobs, "r%d" % run_no, 1000, run_at=rfc3339(due_wall) if due_wall else None)
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            sub = Submitter(server.port, bodies, args.clients)
            sub.start()
            due = sub.started if due_wall is None else time.monotonic() + (due_wall - time.time())
            samples = []
            reached = full = end = None
            latency_s = harness._seconds(args.latency)
            deadline = time.monotonic() + args.run_timeout
            submitting_at_due = None
            while True:
                if sub.finished is None and not sub.running():
                    sub.finished = time.monotonic()
                s = take_sample(conn, server.pid, mock.pid, with_threads=full is None or end is None)
                samples.append(s)
                if submitting_at_due is None and s.t >= due:
                    submitting_at_due = sub.finished is None
                if reached is None and s.t >= due and s.running >= 0.99 * concurrency:
                    reached = s
                # Answers to the calls of the ramp come back during the first latency after
                # in-flight reaches C; the window starts once that latency has passed.
                if reached is not None and full is None and s.t >= reached.t + latency_s:
                    full = s
                if full is not None and end is None and (s.t - full.t >= args.window or
                                                         (s.queued == 0 and sub.finished is not None)):
                    end = s
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(args.interval)
            conn.close()
            mock_stats = mock.stats()
            r["rss_mib"] = vm_kib(server.pid, "VmHWM") / 1024
            r["pid"] = server.pid
            server.kill9()   # nothing to drain: the figures are taken
            sub.join()
        mock.kill9()
    r["submit_s"] = sub.finished - sub.started
    r["submit_rate"] = jobs / r["submit_s"]
    r["submit_errors"] = sub.errors
    r["submitting_at_due"] = bool(submitting_at_due) and not args.overlap
    last = samples[-1]
    r["peak_in_flight"] = max(s.running for s in samples)
    r["failed"], r["expired"] = last.failed, last.expired
    r["provider_calls"] = last.provider_calls
    r["mock_outcomes"] = {k: v for k, v in mock_stats["outcomes"].items() if v}
    r["mock_peak_in_flight"] = mock_stats["peak_in_flight"]
    r["series"] = [(s.t - due, s.running, s.queued, s.done) for s in samples]
    if full is not None and end is not None and end.t > full.t:
        w = end.t - full.t
        r["window_s"] = w
        r["steady_rate"] = (end.done - full.done) / w
        r["cpu"] = (end.cpu - full.cpu) / w
        r["mock_cpu"] = (end.mock_cpu - full.mock_cpu) / w
        r["client_cpu"] = (end.client_cpu - full.client_cpu) / w
        r["cpu_us_per_job"] = (end.cpu - full.cpu) / max(1, end.done - full.done) * 1e6
        m = full.machine.since(w, later=end.machine)
        r["steal"], r["pressure"], r["irq"] = m["steal"], m["pressure"], m["irq"]
        r["others"] = max(0.0, m["tasks"] - r["cpu"] - r["mock_cpu"] - r["client_cpu"])
        r["full_after_s"] = reached.t - due
        tops = []
        roles = thread_roles(r["pid"], end.threads.keys(), args.io_threads or 2)
        for tid, (name, sec) in end.threads.items():
            before = full.threads.get(tid, (name, 0.0))[1]
            tops.append(((sec - before) / w, name if name != "sluice" else roles[tid], tid))
        tops.sort(reverse=True)
        r["threads"] = tops
    else:
        r["window_s"] = 0
        r["steady_rate"] = None
    return r


# ---------------------------------------------------------------------------------------------
# Output.

def error_count(r):
    return (r["failed"] + r["expired"] + len(r["submit_errors"]) +
            sum(v for k, v in r["provider_calls"].items() if k != "ok") +
            sum(v for k, v in r["mock_outcomes"].items() if k != "ok"))


def fmt_run(r, args):
    bad_calls = {k: v for k, v in r["provider_calls"].items() if k != "ok" and v}
    bad_mock = {k: v for k, v in r["mock_outcomes"].items() if k != "ok"}
    lines = []
    steady = "%6.0f jobs/s over %.1f s" % (r["steady_rate"], r["window_s"]) if r["steady_rate"] else \
        "   n/a (in-flight never reached 99%% of %d)" % r["concurrency"]
    lines.append("  steady %s | submit %6.0f jobs/s (%.1f s%s) | peak in-flight %d (mock saw %d) | RSS peak %.0f MiB"
                 % (steady, r["submit_rate"], r["submit_s"],
                    ", STILL SUBMITTING WHEN DUE" if r["submitting_at_due"] else "",
                    r["peak_in_flight"], r["mock_peak_in_flight"], r["rss_mib"]))
    if r["steady_rate"]:
        lines.append("    window CPU: sluice %.2f cores (%.0f us/job), mock-llm %.2f, this client %.2f; in-flight full "
                     "%.1f s after due; busiest sluice threads: %s"
                     % (r["cpu"], r["cpu_us_per_job"], r["mock_cpu"], r["client_cpu"], r["full_after_s"],
                        ", ".join("%s %.2f" % (n, c) for c, n, tid in r["threads"][:args.top_threads])))
    lines.append("    errors %d: failed %d, expired %d, submit %d%s, provider non-ok %s, mock non-ok %s"
                 % (error_count(r), r["failed"], r["expired"], len(r["submit_errors"]),
                    (" (" + r["submit_errors"][0] + ")") if r["submit_errors"] else "",
                    bad_calls or 0, bad_mock or 0))
    if r["steady_rate"]:
        lines.append("    machine in window: other processes %.2f cores, irq+softirq %.2f, steal %.2f, CPU pressure %s"
                     % (r["others"], r["irq"], r["steal"],
                        "n/a" if r["pressure"] is None else "%.0f%%" % (100 * r["pressure"])))
    if args.verbose:
        lines.append("    t(s from due)  in-flight  queued     done")
        next_t = -1e9
        for t, running, queued, done in r["series"]:
            if t >= next_t:
                lines.append("    %12.1f %10d %8d %8d" % (t, running, queued, done))
                next_t = t + 0.5
    return "\n".join(lines)


def med(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    return (fmt + " [" + fmt + ".." + fmt + "]") % (statistics.median(values), min(values), max(values))


def summary(concurrency, runs):
    print("C=%-6d %d runs, median [min..max]:" % (concurrency, len(runs)))
    print("  steady completed   %s jobs/s" % med([r["steady_rate"] for r in runs], "%.0f"))
    print("  submit (bulk)      %s jobs/s" % med([r["submit_rate"] for r in runs], "%.0f"))
    print("  peak in-flight     %s (sluice), %s (at the mock)" % (med([r["peak_in_flight"] for r in runs], "%.0f"),
                                                                med([r["mock_peak_in_flight"] for r in runs], "%.0f")))
    print("  peak RSS (VmHWM)   %s MiB" % med([r["rss_mib"] for r in runs], "%.0f"))
    print("  sluice CPU         %s cores (steady window)" % med([r.get("cpu") for r in runs], "%.2f"))
    print("  sluice CPU per job %s us (steady window)" % med([r.get("cpu_us_per_job") for r in runs], "%.0f"))
    print("  mock-llm CPU       %s cores (steady window)" % med([r.get("mock_cpu") for r in runs], "%.2f"))
    print("  curl thread CPU    %s cores (steady window)"
          % med([next((c for c, n, _ in r.get("threads", []) if n == "curl"), None) for r in runs], "%.2f"))
    print("  other processes    %s cores, CPU pressure %s%% (steady window; machine noise)"
          % (med([r.get("others") for r in runs], "%.2f"),
             med([100 * r["pressure"] if r.get("pressure") is not None else None for r in runs], "%.0f")))
    print("  errors             %s (failed+expired jobs, submit errors, non-ok calls and mock outcomes)"
          % med([error_count(r) for r in runs], "%.0f"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--concurrency", default="10000,20000",
                    help="comma-separated worker.concurrency values (each is lowered to fit the open-files limit)")
    ap.add_argument("--jobs", type=int, default=60000, help="jobs per run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=float, default=8.0, help="longest steady window, seconds")
    ap.add_argument("--overlap", action="store_true", help="submit while the workers run (jobs due at once)")
    ap.add_argument("--assumed-submit-rate", type=float, default=30000,
                    help="prefill: jobs are due at 1 s + jobs / this after the first submit")
    ap.add_argument("--latency", default="1s", help="mock-llm latency")
    ap.add_argument("--mock-threads", type=int, default=2)
    ap.add_argument("--io-threads", type=int, default=0, help="server.io_threads (default: the server's)")
    ap.add_argument("--clients", type=int, default=4, help="bulk submit threads")
    ap.add_argument("--interval", type=float, default=0.1, help="metrics poll period, seconds")
    ap.add_argument("--run-timeout", type=float, default=60.0)
    ap.add_argument("--top-threads", type=int, default=4)
    ap.add_argument("-v", "--verbose", action="store_true", help="print each run's time series")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    wanted = [int(c) for c in args.concurrency.split(",") if c]
    # Each call holds one socket in sluice and one in mock-llm; keep ~1000 fds for the rest.
    fds = raise_fd_limit(max(wanted) + 2048)
    levels = []
    for c in wanted:
        fit = min(c, (fds - 1000) // 1000 * 1000)
        if fit != c:
            print("note: C=%d does not fit the open-files limit %d (no CAP_SYS_RESOURCE to raise it); using C=%d"
                  % (c, fds, fit))
        levels.append(fit)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-bench-inflight-%d" % os.getpid())
    print("sluice inflight bench: %s, mock latency %s, %d CPU(s), load %.2f, fd limit %d, %s, binary %s"
          % (time.strftime("%Y-%m-%d %H:%M:%S"), args.latency, os.cpu_count(), os.getloadavg()[0], fds,
             "overlapped submission" if args.overlap else "prefilled store", binary_note(args.bin)))
    results = {}
    try:
        for c in levels:
            results[c] = []
            for i in range(args.runs):
                print("C=%d run %d/%d: %d jobs" % (c, i + 1, args.runs, args.jobs), flush=True)
                r = one_run(args, c, args.jobs, i, tmp / ("c%d-r%d" % (c, i)))
                print(fmt_run(r, args), flush=True)
                results[c].append(r)
    finally:
        if not harness.KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)
    print()
    for c in levels:
        summary(c, results[c])


if __name__ == "__main__":
    main()
