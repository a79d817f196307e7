#!/usr/bin/env python3
"""Sync path overhead: the latency sluice's POST /v1/chat/completions adds over calling mock-llm
directly, at a fixed request rate.

Issue target: p50 and p99 latency added over calling mock-llm directly, at 1 000 requests/s:
p99 <= 1 ms.

One run: start `sluice mock-llm --latency 0ms` and `sluice serve` (models "fast"/"strong" on that
mock), then bench/loadgen (C++, open loop, keep-alive connections, one thread, epoll + timerfd)
sends, interleaved in the same run and each at --rate requests/s for --duration seconds:
  direct  the chat body with model "gpt-4o-mini" straight to mock-llm's /v1/chat/completions
  sluice  the same body with model "fast" (an alias of gpt-4o-mini on that mock) to sluice's
          /v1/chat/completions
Latency is from the first byte written to the last byte read, per request; the first --warmup
seconds are left out. Printed per run and as the median [min..max] of --runs runs:
  p50/p90/p99/p99.9/max of each target, the differences sluice - direct at each percentile (the
  added latency: a difference of percentiles, not a percentile of differences, since the two
  sets are different requests), the server-side X-Sluice-Overhead-Ms (p50/p99), the achieved
  rate, the generator's own send lag (due -> written, p99: it shows whether the generator kept
  its schedule) and the CPU that sluice and mock-llm used per request.
No pass/fail: it prints figures. Everything talks to 127.0.0.1 only.
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests" / "integration"))
import harness  # noqa: E402
from machine import MachineCpu, binary_note, proc_cpu_seconds  # noqa: E402

# A short chat: about 40 prompt tokens, a short answer.
MESSAGES = [
    {"role": "system", "content": "You are a support assistant for a retail bank. Answer in one short sentence."},
    {"role": "user", "content": "I was charged twice for the same purchase at a grocery store yesterday. "
                                "What should I do to get the second charge refunded?"},
]


def build_loadgen(build_dir):
    subprocess.run(["make", "-s", "-C", str(BENCH), "BUILD_DIR=%s" % build_dir], check=True)
    return Path(build_dir) / "loadgen"


def one_run(args, loadgen, tmp):
    tmp.mkdir(parents=True, exist_ok=True)
    direct_body, sluice_body = tmp / "direct.json", tmp / "sluice.json"
    direct_body.write_text(json.dumps({"model": "gpt-4o-mini", "messages": MESSAGES, "max_tokens": 32}))
    sluice_body.write_text(json.dumps({"model": "fast", "messages": MESSAGES, "max_tokens": 32}))
    with harness.MockLlm(latency="0ms", threads=args.mock_threads, tmp_dir=tmp / "mock", bin=args.bin) as mock:
        server_table = {"io_threads": args.io_threads} if args.io_threads else {}
        with harness.Server(mock=mock, server=server_table, tmp_dir=tmp / "sluice", bin=args.bin) as server:
            cpu0, mock_cpu0 = proc_cpu_seconds(server.pid), proc_cpu_seconds(mock.pid)
            machine = MachineCpu()
            t0 = time.monotonic()
            out = subprocess.run(
                [str(loadgen), "--rate", str(args.rate), "--duration", str(args.duration), "--warmup", str(args.warmup),
                 "--max-conns", str(args.max_conns), "--watch-header", "X-Sluice-Overhead-Ms",
                 "--target", "direct", mock.url + "/v1/chat/completions", str(direct_body),
                 "--target", "sluice", server.url + "/v1/chat/completions", str(sluice_body)],
                check=True, capture_output=True, text=True).stdout
            wall = time.monotonic() - t0
            m = machine.since(wall)
            cpu, mock_cpu = proc_cpu_seconds(server.pid) - cpu0, proc_cpu_seconds(mock.pid) - mock_cpu0
    r = json.loads(out)
    t = {x["name"]: x for x in r["targets"]}
    sent = args.rate * args.duration
    return {"direct": t["direct"], "sluice": t["sluice"], "loadgen_cpu": r["loadgen_cpu_s"],
            # sluice serves the sluice requests; mock-llm serves both streams.
            "sluice_cpu_us": cpu / sent * 1e6, "mock_cpu_us": mock_cpu / (2 * sent) * 1e6,
            "sluice_cores": cpu / wall, "mock_cores": mock_cpu / wall,
            "others": max(0.0, m["tasks"] - (cpu + mock_cpu + r["loadgen_cpu_s"]) / wall), "irq": m["irq"],
            "steal": m["steal"], "pressure": m["pressure"]}


PCTS = ("p50", "p90", "p99", "p999", "max")


def errors(t):
    return t["measured"] - t["ok"]


def fmt_run(r):
    d, s = r["direct"]["latency_us"], r["sluice"]["latency_us"]
    ov = r["sluice"]["watched"]
    lines = []
    for name in ("direct", "sluice"):
        x = r[name]
        lat = x["latency_us"]
        lines.append("  %-6s %s us | %.0f req/s, %d ok, %d errors%s, %d conns | send lag p99 %.0f us"
                     % (name, " ".join("%s %6.0f" % (p, lat.get(p, float("nan"))) for p in PCTS),
                        x["achieved_rate"], x["ok"], errors(x),
                        (" " + json.dumps(x["errors"] or x["statuses"])) if errors(x) else "",
                        x["connections_opened"], x["send_lag_us"].get("p99", float("nan"))))
    lines.append("  added  %s us (sluice - direct)" % " ".join("%s %6.0f" % (p, s[p] - d[p]) for p in PCTS))
    lines.append("  X-Sluice-Overhead-Ms p50 %.3f p90 %.3f p99 %.3f max %.3f (n %d) | CPU per sync request: sluice "
                 "%.0f us, mock %.0f us per request"
                 % (ov.get("p50", float("nan")), ov.get("p90", float("nan")), ov.get("p99", float("nan")),
                    ov.get("max", float("nan")), ov["n"], r["sluice_cpu_us"], r["mock_cpu_us"]))
    lines.append("  machine: other processes %.2f cores, irq+softirq %.2f, steal %.2f, CPU pressure %s"
                 % (r["others"], r["irq"], r["steal"],
                    "n/a" if r["pressure"] is None else "%.0f%%" % (100 * r["pressure"])))
    return "\n".join(lines)


def med(values, fmt):
    return (fmt + " [" + fmt + ".." + fmt + "]") % (statistics.median(values), min(values), max(values))


def summary(runs, rate):
    print("\nsync path at %d req/s per target, %d runs, median [min..max], microseconds:" % (rate, len(runs)))
    for p in PCTS:
        d = [r["direct"]["latency_us"][p] for r in runs]
        s = [r["sluice"]["latency_us"][p] for r in runs]
        a = [r["sluice"]["latency_us"][p] - r["direct"]["latency_us"][p] for r in runs]
        print("  %-4s direct %-22s sluice %-22s added %s" % (p, med(d, "%.0f"), med(s, "%.0f"), med(a, "%.0f")))
    for p in ("p50", "p99"):
        print("  X-Sluice-Overhead-Ms %s  %s ms" % (p, med([r["sluice"]["watched"][p] for r in runs], "%.3f")))
    print("  achieved rate        direct %s, sluice %s req/s"
          % (med([r["direct"]["achieved_rate"] for r in runs], "%.0f"),
             med([r["sluice"]["achieved_rate"] for r in runs], "%.0f")))
    print("  errors               direct %s, sluice %s"
          % (med([errors(r["direct"]) for r in runs], "%d"), med([errors(r["sluice"]) for r in runs], "%d")))
    print("  generator send lag   p99 %s us (due -> first byte written); generator CPU %s s per run"
          % (med([max(r["direct"]["send_lag_us"]["p99"], r["sluice"]["send_lag_us"]["p99"]) for r in runs], "%.0f"),
             med([r["loadgen_cpu"] for r in runs], "%.2f")))
    print("  machine noise        other processes %s cores, CPU pressure %s%%"
          % (med([r["others"] for r in runs], "%.2f"),
             med([100 * r["pressure"] for r in runs], "%.0f") if all(r["pressure"] is not None for r in runs) else "n/a"))
    print("  CPU per sync request sluice %s us, mock-llm %s us; sluice %s cores, mock-llm %s cores"
          % (med([r["sluice_cpu_us"] for r in runs], "%.0f"), med([r["mock_cpu_us"] for r in runs], "%.0f"),
             med([r["sluice_cores"] for r in runs], "%.2f"), med([r["mock_cores"] for r in runs], "%.2f")))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--rate", type=int, default=1000, help="requests/s to each target")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load per run, warmup included")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-conns", type=int, default=64, help="keep-alive connections per target, at most")
    ap.add_argument("--mock-threads", type=int, default=2)
    ap.add_argument("--io-threads", type=int, default=0, help="server.io_threads (default: the server's)")
    ap.add_argument("--build-dir", default=str(BENCH.parent / "build-bench"), help="where make puts loadgen")
    args = ap.parse_args()
    args.bin = str(Path(args.bin).resolve())
    loadgen = build_loadgen(args.build_dir)
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-bench-sync-%d" % os.getpid())
    print("sluice sync overhead bench: %s, %d req/s per target for %.0f s (%.0f s warmup), %d CPU(s), load %.2f, "
          "binary %s" % (time.strftime("%Y-%m-%d %H:%M:%S"), args.rate, args.duration, args.warmup, os.cpu_count(),
                         os.getloadavg()[0], binary_note(args.bin)))
    runs = []
    try:
        for i in range(args.runs):
            print("run %d/%d" % (i + 1, args.runs), flush=True)
            r = one_run(args, loadgen, tmp / ("r%d" % i))
            print(fmt_run(r), flush=True)
            runs.append(r)
    finally:
        if not harness.KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)
    summary(runs, args.rate)


if __name__ == "__main__":
    main()
