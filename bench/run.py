#!/usr/bin/env python3
"""Sluice's benchmarks side by side with BullMQ: `make bench` (full) and `make bench-quick`
(a smoke run: tiny sizes, one run). The scenarios and what each measures: bench/README.md.

    python3 bench/run.py --bin build-release/sluice                # everything, 3 runs each
    python3 bench/run.py --only 3,5 --runs 5                        # some scenarios
    python3 bench/run.py --quick --check                            # smoke: every scenario gives numbers

Prints a table (median [min..max] over the runs; for a row with a peer, the ratio of the
medians, oriented so that > 1 means Sluice is better) and writes the figures, the machine and
the noise seen during each run to bench/results/<date>.json (--out). Starts everything on
127.0.0.1 and stops it again, also on Ctrl-C or a failure."""
import argparse
import json
import os
import shutil
import statistics
import sys
import time
import traceback
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(BENCH.parent / "tests" / "integration"))
import harness  # noqa: E402
import procs  # noqa: E402
import scenarios  # noqa: E402
import sync_overhead  # noqa: E402
from machine import describe, fdatasync_ms  # noqa: E402

FULL = {"runs": 3, "bulk_jobs": 200_000, "single_seconds": 10.0, "warmup": 2.0, "e2e_jobs": 200_000,
        "e2e_http_jobs": 200_000, "probe_jobs": 50_000, "peer_concurrency": "16,64,256,1024",
        "inflight": "10000,20000,50000", "inflight_jobs": 60_000, "inflight_window": 8.0,
        "depths": "1000,1000000", "depth_iterations": 300, "sync_seconds": 20.0, "recovery_jobs": 1000,
        "peer_inflight": 10000, "no_recovery_peer": False}
QUICK = {"runs": 1, "bulk_jobs": 5_000, "single_seconds": 2.0, "warmup": 0.5, "e2e_jobs": 5_000,
         "e2e_http_jobs": 3_000, "probe_jobs": 3_000, "peer_concurrency": "64", "inflight": "500",
         "inflight_jobs": 3_000, "inflight_window": 2.0, "depths": "1000,20000", "depth_iterations": 20,
         "sync_seconds": 3.0, "recovery_jobs": 100, "peer_inflight": 500, "no_recovery_peer": True}

assert FULL.keys() == QUICK.keys(), "FULL and QUICK must size the same options"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=harness.SLUICE_BIN, help="the sluice binary (default $SLUICE_BIN or build/sluice)")
    ap.add_argument("--quick", action="store_true", help="smoke sizes, one run (defaults below become QUICK's)")
    ap.add_argument("--only", default="1,2,3,4,5,6,7,8", help="scenarios to run, e.g. 1,3,5")
    ap.add_argument("--runs", type=int, help="runs per scenario (3; quick: 1)")
    ap.add_argument("--out", help="JSON file or directory (default bench/results/<date>.json; quick: $TMPDIR)")
    ap.add_argument("--check", action="store_true",
                    help="exit 1 unless every scenario ran and every row has a number (bench.quick)")
    ap.add_argument("--no-peers", action="store_true", help="Sluice only (no Redis/BullMQ)")
    ap.add_argument("--no-aof", action="store_true", help="no BullMQ row with AOF everysec")
    ap.add_argument("--no-recovery-peer", action="store_true", default=None,
                    help="skip BullMQ in 8 (it waits out 30-60 s of locks; skipped by --quick)")
    ap.add_argument("--clients", type=int, default=4, help="bulk submit threads / addBulk loops")
    ap.add_argument("--mock-threads", type=int, default=2)
    ap.add_argument("--bulk-jobs", type=int)
    ap.add_argument("--single-clients", type=int, default=64)
    ap.add_argument("--single-seconds", type=float)
    ap.add_argument("--paced-rate", type=int, default=5000)
    ap.add_argument("--warmup", type=float)
    ap.add_argument("--e2e-jobs", type=int)
    ap.add_argument("--e2e-http-jobs", type=int)
    ap.add_argument("--e2e-concurrency", type=int, default=1024, help="sluice worker.concurrency in 3 and 4")
    ap.add_argument("--e2e-timeout", type=float, default=300.0)
    ap.add_argument("--probe-jobs", type=int, help="jobs per BullMQ concurrency probe in 3")
    ap.add_argument("--peer-concurrency", help="BullMQ worker concurrencies to try in 3 (the best is reported)")
    ap.add_argument("--inflight", help="in-flight levels of 5 (each lowered to fit the open-files limit)")
    ap.add_argument("--inflight-jobs", type=int)
    ap.add_argument("--peer-inflight", type=int, help="BullMQ worker concurrency in 5 (10000)")
    ap.add_argument("--inflight-window", type=float)
    ap.add_argument("--depths", help="queue depths of 6")
    ap.add_argument("--depth-iterations", type=int)
    ap.add_argument("--sync-rate", type=int, default=1000)
    ap.add_argument("--sync-seconds", type=float)
    ap.add_argument("--recovery-jobs", type=int)
    ap.add_argument("--perf-dir", help="record `perf record -g` of the server during 3 and 4 into this dir")
    ap.add_argument("--build-dir", default=str(BENCH.parent / "build-bench"), help="where make puts loadgen")
    o = ap.parse_args(argv)
    base = QUICK if o.quick else FULL
    for k, v in base.items():
        if getattr(o, k) is None:
            setattr(o, k, v)
    o.bin = str(Path(o.bin).resolve())
    o.only = [int(x) for x in str(o.only).split(",") if x]
    o.peer_concurrency = [int(x) for x in str(o.peer_concurrency).split(",") if x]
    o.inflight = [int(x) for x in str(o.inflight).split(",") if x]
    o.depths = [int(x) for x in str(o.depths).split(",") if x]
    o.perf_dir = Path(o.perf_dir).resolve() if o.perf_dir else None
    return o


# ---------------------------------------------------------------------------------------------
# The table.

def med(values):
    return statistics.median(values) if values else None


def fmt(v):
    if v is None:
        return "n/a"
    a = abs(v)
    if a >= 1000:
        return "{:,.0f}".format(v).replace(",", " ")
    if a >= 100:
        return "%.0f" % v
    if a >= 10:
        return "%.1f" % v
    return "%.2f" % v


def ratio(r, rows):
    """Sluice's median over the peer's, oriented so that > 1 is better for Sluice."""
    if not r["peer"]:
        return None
    peer = next((p for p in rows if p["scenario"] == r["scenario"] and p["row"] == r["peer"] and
                 p["metric"] == r["metric"]), None)
    if peer is None or not peer["values"] or not r["values"]:
        return None
    a, b = med(r["values"]), med(peer["values"])
    if not a or not b:
        return None
    return a / b if r["better"] == "higher" else b / a


def table(rows, names):
    lines = []
    header = "%-3s %-18s %-30s %28s %8s" % ("#", "row", "metric", "median [min..max]", "ratio")
    lines.append(header)
    lines.append("-" * len(header))
    last = None
    for r in rows:
        if r["scenario"] != last:
            lines.append("%d. %s" % (r["scenario"], names[r["scenario"]]))
            last = r["scenario"]
        v = r["values"]
        cell = "%s [%s..%s]" % (fmt(med(v)), fmt(min(v)), fmt(max(v))) if v else "n/a"
        q = ratio(r, rows)
        rs = ("%.2fx" % q) if q is not None else ""
        if q is not None:
            rs += " vs " + r["peer"]
        lines.append("%-3s %-18s %-30s %28s   %s" % ("", r["row"], r["metric"], cell, rs))
    return "\n".join(lines)


def noise_line(rows):
    others = [n.get("others") for r in rows for n in r["noise"] if n and n.get("others") is not None]
    press = [n.get("pressure") for r in rows for n in r["noise"] if n and n.get("pressure") is not None]
    if not others:
        return "machine noise: not recorded"
    return ("machine noise during the measurements: CPU of other processes median %.2f cores (max %.2f)%s"
            % (statistics.median(others), max(others),
               (", CPU pressure median %.0f%%" % (100 * statistics.median(press))) if press else ""))


def main(argv=None):
    o = parse_args(argv)
    if not Path(o.bin).exists():
        print("no sluice binary at %s (make build, or --bin)" % o.bin)
        return 2
    # The load generator CMake builds next to the binary, else `make -C bench`.
    o.loadgen = Path(o.bin).parent / "sluice_loadgen"
    if not o.loadgen.exists():
        o.loadgen = sync_overhead.build_loadgen(o.build_dir)
    if not o.no_peers and procs.peers_ready():
        print("BullMQ peer unavailable: %s (or pass --no-peers)" % procs.peers_ready())
        return 77   # ctest's "skipped" for bench.quick
    for k in o.only:
        if k not in scenarios.SCENARIOS:
            print("unknown scenario %d (1-8)" % k)
            return 2
    stamp = time.strftime("%Y-%m-%dT%H%M%S")
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / ("sluice-bench-%d" % os.getpid())
    machine = describe(o.bin)
    print("sluice bench %s: %s, %s CPU(s) %s, load %.2f, runs %d%s" % (
        stamp, "QUICK" if o.quick else "full", machine["cpus"], machine.get("cpu_model"), machine["load_avg"][0], o.runs,
        "" if o.no_peers else ", peer BullMQ %s on %s" % (machine.get("bullmq"), machine.get("redis"))))
    print("binary %s" % machine.get("sluice"))
    print("fdatasync in %s: %s ms (the floor of every durable commit)" % (os.environ.get("TMPDIR", "/tmp"),
                                                                        machine.get("fdatasync_ms")), flush=True)
    names = {k: v[0] for k, v in scenarios.SCENARIOS.items()}
    rows, failures, durations = [], {}, {}
    started = time.monotonic()
    try:
        for k in o.only:
            print("%d. %s" % (k, names[k]), flush=True)
            t0 = time.monotonic()
            try:
                scenarios.SCENARIOS[k][1](o, tmp, rows)
            except KeyboardInterrupt:
                raise
            except Exception as e:   # one scenario's failure does not lose the others' figures
                failures[k] = "%s: %s" % (type(e).__name__, e)
                print("  FAILED: %s" % failures[k], flush=True)
                traceback.print_exc()
            durations[k] = time.monotonic() - t0
    finally:
        if not harness.KEEP_TMP:
            shutil.rmtree(tmp, ignore_errors=True)
    total = time.monotonic() - started
    # The disk of a shared VM changes its mind: its fdatasync latency again, after the runs.
    machine["fdatasync_ms_after"] = fdatasync_ms(os.environ.get("TMPDIR", "/tmp"))
    print()
    print(table(rows, names))
    print(noise_line(rows))
    print("fdatasync (append/overwrite) before the runs %s ms, after %s ms" % (machine.get("fdatasync_ms"),
                                                                             machine.get("fdatasync_ms_after")))
    for k, why in failures.items():
        print("scenario %d FAILED: %s" % (k, why))
    print("took %.0f s (%s)" % (total, ", ".join("%d: %.0f s" % kv for kv in durations.items())))

    doc = {"date": stamp, "quick": o.quick, "machine": machine,
           "options": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(o).items()},
           "rows": [dict(r, median=med(r["values"]), min=min(r["values"]) if r["values"] else None,
                         max=max(r["values"]) if r["values"] else None, ratio=ratio(r, rows)) for r in rows],
           "failures": {str(k): v for k, v in failures.items()}, "seconds": durations}
    out = Path(o.out) if o.out else (Path(os.environ.get("TMPDIR", "/tmp")) if o.quick else BENCH / "results")
    if out.suffix != ".json":
        out.mkdir(parents=True, exist_ok=True)
        out = out / ("%s%s.json" % ("quick-" if o.quick else "", stamp))
    out.write_text(json.dumps(doc, indent=1) + "\n")
    print("wrote %s" % out)

    if o.check:
        missing = [k for k in o.only if k in failures or not any(r["scenario"] == k for r in rows)]
        # A rate of 0 is no figure either: the run did not measure what it should.
        empty = ["%d %s %s" % (r["scenario"], r["row"], r["metric"]) for r in rows
                 if not r["values"] or any(v is None or (v <= 0 and r["better"] == "higher") for v in r["values"])]
        if missing or empty:
            print("CHECK FAILED: scenarios without figures %s; rows without numbers %s" % (missing, empty))
            return 1
        print("check: every scenario produced numbers")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
