#!/usr/bin/env python3
"""Shared PostgreSQL store against the embedded SQLite store: submit and end-to-end throughput
with an instant model on 1, 2 and 3 nodes of one PostgreSQL, and on one SQLite node.

Issue target (Performance): "Throughput of submit and end-to-end with an instant mock for 1, 2
and 3 nodes on one PostgreSQL, against the same workload on SQLite."

Setup: a PostgreSQL cluster of its own (scripts/pg-test-cluster.sh start, then durability turned
back ON with ALTER SYSTEM: fsync, synchronous_commit, full_page_writes, and a reload), so that it
compares with the durable SQLite store (the default). Every measurement gets a fresh database
(CREATE DATABASE) and fresh nodes; nodes run `sluice serve` with [server] store = the URL.
Model: "local" (the built-in instant model, no HTTP) and/or "mock" (mock-llm, latency 0, over
HTTP); the jobs are classify_ticket on alias "fast".
  submit      N jobs through POST /v1/jobs/bulk, 1000 per request, from 4 client threads, the
              requests spread over the nodes round-robin, bodies encoded before the clock starts;
              each job has run_in "1h", so the workers stay idle: N / (last answer - first request)
  end-to-end  N jobs due at once, same client: N / (first request - the first /metrics sample of
              node 1 with sluice_jobs{status="done"} >= N), polled every 50 ms (the counts are
              the store's, so on PostgreSQL they are the cluster's)
Each configuration runs --runs times; the table prints the median [min..max] and the ratio of the
medians against SQLite of the same invocation. No pass/fail. Everything talks to 127.0.0.1 only.
"""
import argparse
import http.client
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import harness  # noqa: E402
from jobs import bulk_bodies, post_bulk  # noqa: E402

PG_SCRIPT = ROOT / "scripts" / "pg-test-cluster.sh"


# ---------------------------------------------------------------------------------------------
# PostgreSQL.

def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def psql(url, sql):
    out = subprocess.run(["psql", url, "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql],
                         check=True, capture_output=True, text=True)
    return out.stdout.strip()


class Cluster:
    """A throwaway cluster with durability ON (the test script turns it off)."""

    def __init__(self, directory):
        self.dir = directory
        self.url = subprocess.run([str(PG_SCRIPT), "start", str(directory)], check=True,
                                  capture_output=True, text=True).stdout.strip()
        admin = with_database(self.url, "postgres")
        for setting in ("fsync", "synchronous_commit", "full_page_writes"):
            psql(admin, "ALTER SYSTEM SET %s = on" % setting)
        psql(admin, "SELECT pg_reload_conf()")
        deadline = time.monotonic() + 10
        while True:
            got = [psql(admin, "SHOW %s" % s) for s in ("fsync", "synchronous_commit", "full_page_writes")]
            if got == ["on", "on", "on"] or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.durability = "fsync=%s synchronous_commit=%s full_page_writes=%s" % tuple(got)
        self.version = psql(admin, "SHOW server_version")

    def create_database(self):
        name = "bench_" + uuid.uuid4().hex[:10]
        psql(with_database(self.url, "postgres"), "CREATE DATABASE %s" % name)
        return with_database(self.url, name)

    def drop_database(self, url):
        name = urllib.parse.urlsplit(url).path.lstrip("/")
        psql(with_database(self.url, "postgres"), "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)

    def stop(self):
        subprocess.run([str(PG_SCRIPT), "stop", str(self.dir)], check=False, capture_output=True)


# ---------------------------------------------------------------------------------------------
# Load.

class Submitter:
    """Sends body k to node k mod len(ports) from `clients` threads, each with one keep-alive
    connection per node."""

    def __init__(self, ports, bodies, clients):
        self.ports, self.bodies, self.clients = ports, bodies, clients
        self.errors = []
        self.started = self.finished = None
        self._next = 0
        self._lock = threading.Lock()
        self._threads = []

    def _take(self):
        with self._lock:
            if self._next >= len(self.bodies):
                return None, None
            self._next += 1
            return self._next - 1, self.bodies[self._next - 1]

    def _run(self):
        conns = [http.client.HTTPConnection("127.0.0.1", p, timeout=120) for p in self.ports]
        try:
            while True:
                k, body = self._take()
                if body is None:
                    break
                conn = conns[k % len(conns)]
                error = post_bulk(conn, body)
                if error:
                    self.errors.append(error)
        except (OSError, http.client.HTTPException) as e:
            self.errors.append(repr(e))
        finally:
            for c in conns:
                c.close()

    def run(self):
        self.started = time.monotonic()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(self.clients)]
        for t in self._threads:
            t.start()
        for t in self._threads:
            t.join()
        self.finished = time.monotonic()


def done_count(conn):
    conn.request("GET", "/metrics")
    m = harness.parse_metrics(conn.getresponse().read().decode())
    return (harness.metric_sum(m, "sluice_jobs", status="done") or 0,
            (harness.metric_sum(m, "sluice_jobs", status="failed") or 0)
            + (harness.metric_sum(m, "sluice_jobs", status="expired") or 0))


# ---------------------------------------------------------------------------------------------
# One measurement.

def start_nodes(args, n, store_url, mock, tmp):
    worker = {"concurrency": args.concurrency, "lease": "30s", "heartbeat": "5s", "poll": "100ms",
              "retry_base": "1s", "retry_max": "5m", "grace": "5s"}
    server = {"store": store_url} if store_url else {}
    providers = None
    if mock is not None:
        providers = [{"name": "mock", "base_url": mock.base_url, "timeout": "30s",
                      "max_concurrency": args.concurrency}]
    nodes = []
    for i in range(n):   # one after the other: the first migrates the database
        s = harness.Server(mock=mock, providers=providers, worker=worker, server=server,
                           tmp_dir=tmp / ("node%d" % i), bin=args.bin)
        s.start()
        nodes.append(s)
    return nodes


def measure(args, kind, n, cluster, mock, tmp, run_no):
    """{"submit": jobs/s, "e2e": jobs/s, "errors": [...]} for one configuration, one run."""
    out = {"errors": []}
    for phase in ("submit", "e2e"):
        store_url = cluster.create_database() if kind == "pg" else None
        phase_tmp = tmp / ("%s%d-%s-r%d" % (kind, n, phase, run_no))
        nodes = start_nodes(args, n, store_url, mock, phase_tmp)
        try:
            bodies = bulk_bodies(args.jobs, "%s%d%s%d" % (kind, n, phase, run_no), 1000,
                                 run_in="1h" if phase == "submit" else None)
            sub = Submitter([s.port for s in nodes], bodies, args.clients)
            if phase == "submit":
                sub.run()
                out["submit"] = args.jobs / (sub.finished - sub.started)
            else:
                t = threading.Thread(target=sub.run, daemon=True)
                t.start()
                conn = http.client.HTTPConnection("127.0.0.1", nodes[0].port, timeout=30)
                deadline = time.monotonic() + args.timeout
                while True:
                    done, bad = done_count(conn)
                    if done + bad >= args.jobs or time.monotonic() > deadline:
                        end = time.monotonic()
                        break
                    time.sleep(0.05)
                conn.close()
                t.join()
                if done + bad < args.jobs:
                    out["errors"].append("timeout: %d of %d done" % (done, args.jobs))
                if bad:
                    out["errors"].append("%d failed/expired" % bad)
                out["e2e"] = done / (end - sub.started)
            out["errors"].extend(sub.errors)
        finally:
            for s in nodes:
                s.kill9() if s.alive() else None
                s.cleanup()
            if store_url:
                cluster.drop_database(store_url)
            shutil.rmtree(phase_tmp, ignore_errors=True)
    return out


def fmt(values):
    if not values:
        return "-"
    med = statistics.median(values)
    if len(values) == 1:
        return "%.0f" % med
    return "%.0f [%.0f..%.0f]" % (med, min(values), max(values))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("SLUICE_BIN") or str(ROOT / "build" / "sluice"))
    ap.add_argument("--jobs", type=int, default=30000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--nodes", default="1,2,3", help="PostgreSQL node counts")
    ap.add_argument("--model", default="local", choices=("local", "mock", "both"))
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=256, help="worker.concurrency of each node")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--no-sqlite", action="store_true")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-pg-nodes-%d" % os.getpid())
    tmp.mkdir(parents=True, exist_ok=True)
    cluster = Cluster(tmp / "pg")
    print("PostgreSQL %s, %s; binary %s; %d jobs, %d clients, worker.concurrency %d per node, %d runs"
          % (cluster.version, cluster.durability, args.bin, args.jobs, args.clients, args.concurrency, args.runs),
          flush=True)
    configs = ([] if args.no_sqlite else [("sqlite", 1)]) + [("pg", int(n)) for n in args.nodes.split(",")]
    models = ["local", "mock"] if args.model == "both" else [args.model]
    try:
        for model in models:
            mock = None
            if model == "mock":
                mock = harness.MockLlm(latency="0ms", tmp_dir=tmp / "mock", bin=args.bin)
                mock.start()
            results = {}
            try:
                for run_no in range(args.runs):   # runs interleaved: a noisy neighbour hits all configs alike
                    for kind, n in configs:
                        r = measure(args, kind, n, cluster, mock, tmp, run_no)
                        results.setdefault((kind, n), []).append(r)
                        print("  [%s] %-6s %d node(s) run %d: submit %.0f jobs/s, end-to-end %.0f jobs/s%s"
                              % (model, kind, n, run_no + 1, r["submit"], r["e2e"],
                                 ("  ERRORS: " + "; ".join(r["errors"][:3])) if r["errors"] else ""),
                              flush=True)
            finally:
                if mock is not None:
                    mock.stop()
            print("\nmodel %s (%s)" % (model, "built-in instant model" if model == "local" else "mock-llm, latency 0"))
            print("| store | nodes | submit jobs/s | vs SQLite | end-to-end jobs/s | vs SQLite |")
            print("|---|---|---|---|---|---|")
            base = results.get(("sqlite", 1))
            for kind, n in configs:
                rs = results[(kind, n)]
                sub = [r["submit"] for r in rs]
                e2e = [r["e2e"] for r in rs]
                rs_sub = rs_e2e = "-"
                if base:
                    rs_sub = "%.2f" % (statistics.median(sub) / statistics.median([b["submit"] for b in base]))
                    rs_e2e = "%.2f" % (statistics.median(e2e) / statistics.median([b["e2e"] for b in base]))
                print("| %s | %d | %s | %s | %s | %s |" % ("SQLite" if kind == "sqlite" else "PostgreSQL", n,
                                                          fmt(sub), rs_sub, fmt(e2e), rs_e2e))
            print(flush=True)
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
