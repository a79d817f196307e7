#!/usr/bin/env python3
"""A 100 000-line batch through the Files and Batch API (API.md "Files and batches").

Starts `sluice mock-llm --latency 0` and `sluice serve` (embedded durable SQLite store) through the
integration-test harness, writes a JSONL file of N chat requests, then measures
  accepted   upload (POST /v1/files) + create (POST /v1/batches) until the batch is in_progress
             (the file has been read once and validated; jobs are being submitted in chunks)
  ingested   until every line is a job (the batch's resume point reached the end of the file)
  completed  until the batch is completed (every job ran, the output file is written)
  download   GET /v1/files/{output}/content, streamed
  RSS        peak resident set of the sluice process (VmHWM), and its RSS before the upload
Prints figures, never pass/fail. One run by default (a run takes about a minute on 2 cores)."""
import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402
from machine import vm_kib  # noqa: E402


def write_input(path, n):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"custom_id": "request-%d" % i, "method": "POST", "url": "/v1/chat/completions",
                                "body": {"model": "fast", "max_tokens": 50, "messages": [
                                    {"role": "system", "content": "You are a helpful assistant."},
                                    {"role": "user", "content": "Say hello to customer number %d" % i}]}}) + "\n")
    return path.stat().st_size


def poll(server, batch_id, done, timeout=900):
    def check():
        batch = harness.request("GET", "%s/v1/batches/%s" % (server.url, batch_id), timeout=30).body
        return batch if done(batch) else None
    return harness.wait_until(check, timeout=timeout, interval=0.05)


def one_run(args, tmp):
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "input.jsonl"
    size = write_input(path, args.lines)
    body, ctype = harness.multipart(fields={"purpose": "batch"},
                                    files={"file": ("input.jsonl", path.read_bytes(), "application/jsonl")})
    worker = {"concurrency": args.concurrency, "lease": "30s", "heartbeat": "5s", "poll": "200ms"}
    queues = [{"name": "batch", "max_concurrency": args.concurrency}]
    with harness.MockLlm(latency="0ms", tmp_dir=tmp / "mock", bin=args.bin) as mock:
        with harness.Server(mock=mock, tmp_dir=tmp / "server", worker=worker, queues=queues, bin=args.bin,
                            providers=[{"name": "mock", "base_url": mock.base_url, "timeout": "30s",
                                        "max_concurrency": args.concurrency}]) as server:
            rss_idle = vm_kib(server.pid, "VmRSS")
            start = time.perf_counter()
            r = harness.request("POST", server.url + "/v1/files", data=body, headers={"Content-Type": ctype},
                                timeout=300)
            assert r.status == 200, r
            uploaded = time.perf_counter()
            r = harness.request("POST", server.url + "/v1/batches", timeout=30,
                                json={"input_file_id": r.body["id"], "endpoint": "/v1/chat/completions",
                                      "completion_window": "24h"})
            assert r.status == 200, r
            batch_id = r.body["id"]
            batch = poll(server, batch_id, lambda b: b["status"] != "validating")
            accepted = time.perf_counter()
            assert batch["status"] == "in_progress", batch
            ingested_at = None

            def finished(b):
                nonlocal ingested_at
                if ingested_at is None:
                    metrics = harness.request("GET", server.url + "/metrics", timeout=30).body
                    if harness.metric_sum(harness.parse_metrics(metrics), "sluice_jobs") >= args.lines:
                        ingested_at = time.perf_counter()
                return b["status"] in ("completed", "failed", "expired", "cancelled")
            batch = poll(server, batch_id, finished)
            completed = time.perf_counter()
            assert batch["status"] == "completed", batch
            t0 = time.perf_counter()
            content = harness.request("GET", "%s/v1/files/%s/content" % (server.url, batch["output_file_id"]),
                                      timeout=300)
            downloaded = time.perf_counter()
            out_bytes = len(content.raw)
            rss_peak = vm_kib(server.pid, "VmHWM")
            return {
                "lines": args.lines, "input_mib": size / 2**20, "output_mib": out_bytes / 2**20,
                "upload_s": uploaded - start, "accepted_s": accepted - start,
                "ingested_s": (ingested_at or completed) - start, "completed_s": completed - start,
                "download_s": downloaded - t0, "counts": batch["request_counts"],
                "rss_idle_mib": rss_idle / 1024, "rss_peak_mib": rss_peak / 1024,
            }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--lines", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=1024, help="worker.concurrency and the batch queue's slots")
    ap.add_argument("--runs", type=int, default=1)
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-bench-batch-%d" % os.getpid())
    print("sluice batch bench: %s, %d lines, %d CPU(s), load %.2f" %
          (time.strftime("%Y-%m-%d %H:%M:%S"), args.lines, os.cpu_count(), os.getloadavg()[0]), flush=True)
    try:
        for i in range(args.runs):
            r = one_run(args, tmp / ("r%d" % i))
            print("run %d: input %.1f MiB, output %.1f MiB, counts %s" %
                  (i + 1, r["input_mib"], r["output_mib"], r["counts"]))
            print("  upload      %6.2f s" % r["upload_s"])
            print("  accepted    %6.2f s  (upload + create until in_progress)" % r["accepted_s"])
            print("  ingested    %6.2f s  (every line a job)" % r["ingested_s"])
            print("  completed   %6.2f s  (%.0f requests/s end to end)" % (r["completed_s"], r["lines"] / r["completed_s"]))
            print("  download    %6.2f s  (output file, streamed)" % r["download_s"])
            print("  sluice RSS  %6.0f MiB idle, %.0f MiB peak (VmHWM)" % (r["rss_idle_mib"], r["rss_peak_mib"]),
                  flush=True)
    finally:
        if not harness.KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
