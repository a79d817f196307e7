#!/usr/bin/env python3
"""Claim latency of the shared PostgreSQL store with 1 000 and 1 000 000 queued jobs (issue target:
it must stay flat).

Setup: a cluster of its own with durability ON (pg_nodes.Cluster: fsync, synchronous_commit,
full_page_writes), a fresh database migrated by `sluice serve` (one node started and stopped, so
the schema and indexes are the engine's own), then queued rows of queue "default" inserted with
INSERT ... SELECT generate_series (every column the engine writes on submit; priority 0; due_at
in the past, distinct per row), VACUUM ANALYZE.

Measured: the engine's claim statement (kClaimJobs of src/store/postgres/queries.h, copied here
with literals for $1..$5: queue "default", a fixed `now` after every due_at, owner, lease, limit
10) in a transaction BEGIN; claim; ROLLBACK — the rollback keeps the depth constant — run by
`pgbench -n -M prepared -c 1 -t T` over a unix socket. Per run: the median transaction latency from
pgbench's per-transaction log, and the mean latency of the claim statement alone (pgbench -r).
--runs runs per depth; printed: median [min..max] over the runs. No pass/fail.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests" / "integration"))
import harness  # noqa: E402
from pg_nodes import Cluster, psql  # noqa: E402

NOW = 2_000_000_000_000        # ms, after every due_at below
BASE_DUE = 1_700_000_000_000

JOB_COLUMNS = ("id, tenant, type, input, object_id, source, prompt_version, response_schema, model, "
               "allow_fallback, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, "
               "dedup_key, webhook_url, metadata, status, attempt, created_at, started_at, finished_at, "
               "cost_usd, error_code, error_message, next_attempt_at, lease_owner, lease_until")

# kClaimJobs, src/store/postgres/queries.h at commit 0c4b69b, $1..$5 as literals.
CLAIM = (
    "WITH RECURSIVE levels (level) AS ("
    " (SELECT priority FROM jobs WHERE status = 0 AND queue = {q}::text"
    "  ORDER BY priority DESC LIMIT 1)"
    " UNION ALL"
    " SELECT (SELECT j.priority FROM jobs AS j"
    "  WHERE j.status = 0 AND j.queue = {q}::text AND j.priority < l.level"
    "  ORDER BY j.priority DESC LIMIT 1)"
    " FROM levels AS l WHERE l.level IS NOT NULL),"
    " picked AS ("
    " SELECT c.pick_id FROM levels AS l CROSS JOIN LATERAL ("
    "  SELECT j.id AS pick_id FROM jobs AS j"
    "  WHERE j.status = 0 AND j.queue = {q}::text AND j.priority = l.level"
    "  AND j.due_at <= {now}::bigint AND (j.deadline IS NULL OR j.deadline > {now}::bigint)"
    "  ORDER BY j.due_at, j.id LIMIT {limit}::bigint FOR UPDATE SKIP LOCKED) AS c"
    " WHERE l.level IS NOT NULL LIMIT {limit}::bigint),"
    " started AS ("
    " UPDATE jobs SET status = 1, attempt = attempt + 1, lease_owner = {owner}::text,"
    " lease_until = {until}::bigint, started_at = coalesce(started_at, {now}::bigint),"
    " next_attempt_at = NULL"
    " WHERE id = ANY (ARRAY (SELECT pick_id FROM picked)) AND status = 0"
    " RETURNING " + JOB_COLUMNS + ", due_at) "
    "SELECT " + JOB_COLUMNS + " FROM started ORDER BY priority DESC, due_at, id")


def insert_queued(url, first, count):
    """Queued rows first..first+count-1 of queue "default", as the engine's submit writes them."""
    psql(url, (
        "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, response_schema, "
        "model, params, queue, priority, deadline, run_at, max_attempts, cost_limit_usd, dedup_key, "
        "webhook_url, metadata, status, attempt, created_at, cost_usd, lease_owner, lease_until, due_at) "
        "SELECT 'job_' || lpad(g::text, 12, '0'), 'default', 'classify_ticket', "
        "'{{\"text\":\"I was charged twice, ticket ' || g || '\"}}', '', 'bench', '1', '{{}}', 'fast', '{{}}', "
        "'default', 0, NULL, {base} + g, 3, NULL, '', '', '{{}}', 0, 0, {base} + g, 0, '', 0, {base} + g "
        "FROM generate_series({a}, {b}) AS g").format(base=BASE_DUE, a=first, b=first + count - 1))
    psql(url, "VACUUM ANALYZE jobs")


def pgbench(cluster, db, script, transactions, workdir):
    """(median transaction latency ms from the per-transaction log, mean claim statement ms)."""
    sock = (cluster.dir / "sockdir").read_text().strip()
    port = re.search(r":(\d+)/", cluster.url).group(1)
    for f in workdir.glob("claimlog*"):
        f.unlink()
    out = subprocess.run(["pgbench", "-n", "-M", "prepared", "-c", "1", "-t", str(transactions), "-r",
                          "-l", "--log-prefix", str(workdir / "claimlog"), "-f", str(script),
                          "-h", sock, "-p", port, "-U", "postgres", db],
                         check=True, capture_output=True, text=True).stdout
    lat = []
    for f in workdir.glob("claimlog*"):
        for line in f.read_text().splitlines():
            parts = line.split()
            lat.append(int(parts[2]) / 1000.0)   # client_id transaction_no time(us) ...
    claim_ms = None
    for line in out.splitlines():
        if "WITH RECURSIVE" in line:
            claim_ms = float(line.split()[0])
    return statistics.median(lat), claim_ms


def fmt(values, unit="ms"):
    return "%.3f [%.3f..%.3f] %s" % (statistics.median(values), min(values), max(values), unit)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("SLUICE_BIN") or str(HERE.parent / "build" / "sluice"))
    ap.add_argument("--depths", default="1000,1000000")
    ap.add_argument("--transactions", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--limit", type=int, default=10, help="jobs per claim")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-claim-depth-%d" % os.getpid())
    tmp.mkdir(parents=True, exist_ok=True)
    os.chmod(tmp, 0o777)   # pgbench writes its logs here
    cluster = Cluster(tmp / "pg")
    try:
        url = cluster.create_database()
        db = url.rsplit("/", 1)[1]
        node = harness.Server(server={"store": url}, tmp_dir=tmp / "node", bin=args.bin)
        node.start()   # migrates the database
        node.stop()
        script = tmp / "claim.sql"
        script.write_text("BEGIN;\n" + CLAIM.format(q="'default'", now=NOW, limit=args.limit, owner="'bench'",
                                                    until=NOW + 30000) + ";\nROLLBACK;\n")
        print("PostgreSQL %s, %s; claim of %d in BEGIN..ROLLBACK, %d transactions per run, %d runs"
              % (cluster.version, cluster.durability, args.limit, args.transactions, args.runs), flush=True)
        have = 0
        print("| queued jobs | claim txn, median latency | claim statement, mean | fill time |")
        print("|---|---|---|---|")
        for depth in (int(d) for d in args.depths.split(",")):
            t0 = time.monotonic()
            insert_queued(url, have + 1, depth - have)
            fill = time.monotonic() - t0
            have = depth
            got = psql(url, "SELECT count(*) FROM jobs WHERE status = 0")
            assert int(got) == depth, got
            pgbench(cluster, db, script, 200, tmp)   # warm-up
            txn, stmt = [], []
            for _ in range(args.runs):
                a, b = pgbench(cluster, db, script, args.transactions, tmp)
                txn.append(a)
                stmt.append(b)
            print("| %d | %s | %s | %.1f s |" % (depth, fmt(txn), fmt(stmt), fill), flush=True)
        plan = psql(url, "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + CLAIM.format(
            q="'default'", now=NOW, limit=args.limit, owner="'bench'", until=NOW + 30000))
        print("\nplan at the last depth (EXPLAIN ANALYZE, autocommit: it does claim %d rows, after the runs):"
              % args.limit)
        print("\n".join(l for l in plan.splitlines() if "Index" in l or "Execution" in l or "Planning" in l))
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
