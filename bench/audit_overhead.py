#!/usr/bin/env python3
"""What the audit log costs end to end, on both engines (issue "Privacy, audit and costs":
audit < 5 % of end-to-end throughput when on, DESIGN.md).

Each run starts servers in turn on the same binary with the in-process `local` model and
bulk-submits the same --jobs classify_ticket jobs (1000 per request, --clients connections)
while the workers run; the rate is jobs from the first bulk request to the moment /metrics
shows them all done:
  off  [audit] enabled = false: no entry is written;
  on   the default: every model call appends an entry in its finish transaction, and the
       sealer chains them (the run also waits until every entry is sealed, and checks the count).
Engines: the durable embedded store (a fresh data dir each), and one node on PostgreSQL (a
cluster of its own with fsync, synchronous_commit and full_page_writes on; a fresh database
each). Runs alternate off, on, off, on, ...; medians and the on/off ratio per run. Everything
stays on 127.0.0.1.
"""
import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
import inflight  # noqa: E402,F401  (puts tests/integration on the path for harness)
import scenarios  # noqa: E402
import harness  # noqa: E402
from jobs import bulk_bodies  # noqa: E402
from pg_nodes import Cluster  # noqa: E402


def one(opts, tmp, audit, store_url=None):
    server = {"store": store_url} if store_url else {}
    s = harness.Server(worker=scenarios.worker_table(opts.concurrency),
                       queues=[{"name": "default", "max_concurrency": opts.concurrency, "reserved": 0}],
                       server=server, tables={"audit": {"enabled": audit}}, tmp_dir=tmp, bin=opts.bin)
    with s:
        body = bulk_bodies(opts.jobs, "audit", 1000)
        rate = scenarios.bulk_end_to_end(s, body, opts.clients, opts.jobs, timeout=900)
        if audit:  # the records really were written and sealed: the last one is number N
            want = opts.jobs
            harness.wait_until(lambda: harness.request(
                "GET", s.url + "/v1/audit?limit=1&after=%d" % (want - 1)).body["data"], timeout=120,
                message="record %d never sealed" % want)
        return rate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(BENCH.parent / "build-release" / "sluice"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--jobs", type=int, default=50000)
    ap.add_argument("--pg-jobs", type=int, default=20000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=1024)
    ap.add_argument("--engines", default="sqlite,postgres")
    opts = ap.parse_args()
    opts.bin = str(Path(opts.bin).resolve())
    root = Path(tempfile.mkdtemp(prefix="sluice-bench-audit-"))
    os.chmod(root, 0o755)  # the cluster runs as postgres when we are root
    cluster = Cluster(root / "pg") if "postgres" in opts.engines else None
    try:
        if cluster:
            print("postgres %s, %s" % (cluster.version, cluster.durability))
        for engine in opts.engines.split(","):
            rates = {"off": [], "on": []}
            jobs = opts.jobs
            if engine == "postgres":
                opts.jobs = opts.pg_jobs
            for i in range(opts.runs):
                for mode in ("off", "on"):
                    url = cluster.create_database() if engine == "postgres" else None
                    try:
                        r = one(opts, root / ("%s-%s-%d" % (engine, mode, i)), mode == "on", url)
                    finally:
                        if url:
                            cluster.drop_database(url)
                    rates[mode].append(r)
                    print("%-8s run %d audit %-3s: %8.0f jobs/s end to end (%d jobs)"
                          % (engine, i + 1, mode, r, opts.jobs), flush=True)
            opts.jobs = jobs
            off, on = statistics.median(rates["off"]), statistics.median(rates["on"])
            ratios = ", ".join("%.3f" % (b / a) for a, b in zip(rates["off"], rates["on"]))
            print("%-8s median jobs/s  off %.0f  on %.0f  on/off %.3f  (per run: %s)"
                  % (engine, off, on, on / off, ratios), flush=True)
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
