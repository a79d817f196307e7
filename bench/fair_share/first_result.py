#!/usr/bin/env python3
"""Fair share, end to end (issue "Tenants and API keys"): the time to tenant B's first result
while tenant A has a backlog of --backlog jobs, against the same job submitted by A itself (what
B would wait behind a first-in-first-out queue).

Per run: a fresh durable `sluice serve` with an admin key, the built-in `local` model, the default
queue at --concurrency. Tenant A bulk-submits --backlog jobs (1 000 per request); then
  fair   tenant B submits one job with ?wait=120s: the time until its answer;
  fifo   (a second fresh server, same backlog) tenant A submits the same job the same way.
Prints each run and the medians. No pass/fail. Everything stays on 127.0.0.1.
"""
import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BENCH.parent / "tests" / "integration"))
import harness  # noqa: E402

ADMIN_KEY = "bench-admin-" + "f" * 32


def job(i, tag):
    return {"type": "classify_ticket", "input": {"text": "Money was charged twice, ticket %d" % i},
            "object_id": "%s-%d" % (tag, i)}


def key_for(s, tenant):
    admin = {"Authorization": "Bearer " + ADMIN_KEY}
    assert harness.request("POST", s.url + "/v1/admin/tenants", json={"id": tenant}, headers=admin).status in (200, 201)
    r = harness.request("POST", s.url + "/v1/admin/keys", json={"tenant": tenant}, headers=admin)
    assert r.status == 201, r
    return {"Authorization": "Bearer " + r.body["key"]}


def backlog(s, headers, n):
    def send(start):
        with harness.Client(s.url, headers=headers, timeout=120) as c:
            r = c.post("/v1/jobs/bulk", json={"jobs": [job(i, "a") for i in range(start, min(n, start + 1000))]})
            assert r.status == 200, r
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(send, range(0, n, 1000)))


def one(opts, tmp, fair):
    s = harness.Server(bin=opts.bin, tmp_dir=tmp, env={"SLUICE_ADMIN_KEY": ADMIN_KEY},
                       worker={"concurrency": opts.concurrency, "lease": "30s"},
                       queues=[{"name": "default", "max_concurrency": opts.concurrency}],
                       server={"bulk_limit": 1000}).start()
    try:
        a = key_for(s, "flood")
        b = key_for(s, "small") if fair else a
        backlog(s, a, opts.backlog)
        start = time.perf_counter()
        r = harness.request("POST", s.url + "/v1/jobs?wait=120s", json=job(0, "b"), headers=b, timeout=130)
        elapsed = time.perf_counter() - start
        assert r.status == 200 and r.body["status"] == "done", r
        return elapsed
    finally:
        s.cleanup()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=str(BENCH.parent / "build-release" / "sluice"))
    ap.add_argument("--backlog", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    opts.bin = str(Path(opts.bin).resolve())
    root = Path(tempfile.mkdtemp(prefix="sluice-fair-bench-"))
    times = {"fair": [], "fifo": []}
    for i in range(opts.runs):
        for mode in ("fair", "fifo"):
            t = one(opts, root / ("%s-%d" % (mode, i)), mode == "fair")
            times[mode].append(t)
            print("run %d %s: first result of the small job after %.3f s (backlog %d)" % (i + 1, mode, t, opts.backlog),
                  flush=True)
    fair, fifo = statistics.median(times["fair"]), statistics.median(times["fifo"])
    print("median time to the small job's result: fair share (tenant B) %.3f s, behind the backlog "
          "(same tenant) %.3f s, ratio %.1fx" % (fair, fifo, fifo / fair))


if __name__ == "__main__":
    main()
