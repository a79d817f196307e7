#!/usr/bin/env python3
"""A quick load baseline (not the full benchmark suite): starts `sluice serve` (and a mock-llm
answering at once), then measures
  1. durable submit rate through POST /v1/jobs/bulk (1000 jobs per request, several clients),
  2. durable submit rate through single POST /v1/jobs (keep-alive clients, threads),
  3. end-to-end rate: first submit to last job done, with the in-process `local` model and
     with mock-llm over HTTP.
Prints one line per figure. Python is the client here, so single-submit figures are bounded
by the client as much as by the server; the bench issue brings a native load generator."""
import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402


def job(i, tag):
    return {"type": "classify_ticket", "input": {"text": "Money was charged twice, ticket %d" % i},
            "object_id": "%s-%d" % (tag, i)}


def bulk_submit(url, n, tag, clients=4, per_request=1000):
    chunks = [[job(i, tag) for i in range(s, min(n, s + per_request))] for s in range(0, n, per_request)]

    def send(chunk):
        with harness.Client(url) as c:
            r = c.post("/v1/jobs/bulk", json={"jobs": chunk}, timeout=60)
            assert r.status == 200, r
    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(send, chunks))
    return n / (time.perf_counter() - start)


def single_submit(url, n, tag, clients=16):
    per = n // clients

    def run(k):
        with harness.Client(url) as c:
            for i in range(per):
                r = c.post("/v1/jobs", json=job(k * per + i, tag))
                assert r.status == 202, r
    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return per * clients / (time.perf_counter() - start)


def end_to_end(server, n, tag):
    start = time.perf_counter()
    bulk_submit(server.url, n, tag)
    harness.wait_until(lambda: harness.metric_sum(harness.parse_metrics(
        harness.request("GET", server.url + "/metrics").body), "sluice_jobs", status="done") >= n,
        timeout=600, interval=0.05)
    return n / (time.perf_counter() - start)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20000)
    args = ap.parse_args()
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-quick-load-%d" % os.getpid())
    tmp.mkdir(parents=True, exist_ok=True)
    worker = {"concurrency": 2048, "lease": "30s", "heartbeat": "5s", "poll": "200ms"}
    queues = [{"name": "default", "max_concurrency": 2048, "reserved": 0}]

    # Submit-only figures: run_in keeps the jobs queued so workers don't compete.
    with harness.Server(tmp_dir=tmp / "s1", worker=worker, queues=queues) as s:
        print("submit bulk   %8.0f jobs/s (durable, 1000/request, 4 clients)" %
              bulk_submit(s.url, args.jobs, "b"))
        print("submit single %8.0f jobs/s (durable, 16 keep-alive clients, Python client)" %
              single_submit(s.url, min(args.jobs, 8000), "s"))
    with harness.Server(tmp_dir=tmp / "s2", worker=worker, queues=queues) as s:
        print("end-to-end    %8.0f jobs/s (local in-process model, %d jobs)" % (end_to_end(s, args.jobs, "e"), args.jobs))
    with harness.MockLlm(tmp_dir=tmp / "m") as m:
        with harness.Server(mock=m, tmp_dir=tmp / "s3", worker=worker, queues=queues) as s:
                print("end-to-end    %8.0f jobs/s (mock-llm over HTTP, 0 ms latency, %d jobs)" %
                  (end_to_end(s, args.jobs, "h"), args.jobs))


if __name__ == "__main__":
    main()
