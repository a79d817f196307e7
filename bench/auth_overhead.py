#!/usr/bin/env python3
"""What authentication costs on the submit path (issue "Tenants and API keys": the key lookup
must cost < 5 % at 10 k submits/s).

Each run starts two servers in turn on the same binary, each with a fresh durable embedded
store, jobs submitted with run_in=1h (so only the submit path is measured):
  off  no admin key, no API key: the default tenant, unauthenticated (loopback);
  on   an admin key and a tenant with an API key; every request carries
       "Authorization: Bearer <key>" and passes the request gate (hash, cache, tenant quotas).
bench/loadgen (C++) measures, per server: closed loop (--clients keep-alive connections,
--seconds after --warmup) submits/s and p50/p99, then an open loop at --rate submits/s and its
p99. Runs alternate off, on, off, on, ... so drift hits both alike; the medians and the
on/off ratio per run are printed. No pass/fail: figures. Everything stays on 127.0.0.1.
"""
import argparse
import json
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "tests" / "integration"))
import harness  # noqa: E402
import sync_overhead  # noqa: E402

ADMIN_KEY = "bench-admin-" + "a" * 32
BODY = {"type": "classify_ticket", "input": {"text": "I was charged twice for the same purchase"},
        "run_in": "1h"}


def server(bin_path, tmp, auth):
    env = {"SLUICE_ADMIN_KEY": ADMIN_KEY} if auth else {}
    return harness.Server(bin=bin_path, tmp_dir=tmp, env=env,
                          worker={"concurrency": 64, "lease": "30s"}).start()


def tenant_key(s):
    admin = {"Authorization": "Bearer " + ADMIN_KEY}
    r = harness.request("POST", s.url + "/v1/admin/tenants", json={"id": "bench"}, headers=admin)
    assert r.status in (200, 201), r
    r = harness.request("POST", s.url + "/v1/admin/keys", json={"tenant": "bench"}, headers=admin)
    assert r.status == 201, r
    return r.body["key"]


def loadgen(opts, argv):
    import subprocess
    out = subprocess.run([str(opts.loadgen)] + [str(a) for a in argv], check=True,
                         capture_output=True, text=True).stdout
    t = json.loads(out)["targets"][0]
    if t["ok"] == 0 or t["measured"] != t["ok"]:
        raise RuntimeError("%d of %d ok: %s %s" % (t["ok"], t["measured"], t["statuses"], t["errors"]))
    return t


def measure(opts, s, tmp, headers=()):
    """Closed-loop and open-loop submit figures of the started server `s`."""
    body = tmp / "body.json"
    body.write_text(json.dumps(BODY))
    headers = list(headers)
    closed = loadgen(opts, ["--closed", opts.clients, "--duration", opts.seconds, "--warmup", opts.warmup]
                     + headers + ["--target", "sluice", s.url + "/v1/jobs", body])
    paced = loadgen(opts, ["--rate", opts.rate, "--duration", opts.seconds, "--warmup", opts.warmup,
                           "--max-conns", 256] + headers + ["--target", "sluice", s.url + "/v1/jobs", body])
    return {"rate": closed["achieved_rate"], "p50": closed["latency_us"]["p50"] / 1000,
            "p99": closed["latency_us"]["p99"] / 1000, "paced_p99": paced["latency_us"]["p99"] / 1000,
            "paced_rate": paced["achieved_rate"]}


def one(opts, tmp, auth):
    s = server(opts.bin, tmp, auth)
    try:
        return measure(opts, s, tmp, ["--header", "Authorization: Bearer " + tenant_key(s)] if auth else [])
    finally:
        s.cleanup()


def arguments(description, extra=None):
    """The options every submit-path comparison takes; `extra(parser)` adds its own."""
    ap = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    if extra:
        extra(ap)
    ap.add_argument("--bin", default=str(BENCH.parent / "build-release" / "sluice"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--clients", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--warmup", type=float, default=1)
    ap.add_argument("--rate", type=int, default=10000, help="open-loop submits/s")
    ap.add_argument("--build-dir", default=str(BENCH.parent / "build-bench"))
    opts = ap.parse_args()
    opts.bin = str(Path(opts.bin).resolve())
    opts.loadgen = Path(opts.bin).parent / "sluice_loadgen"
    if not opts.loadgen.exists():
        opts.loadgen = sync_overhead.build_loadgen(opts.build_dir)
    return opts


def compare(opts, modes, run_one, what):
    """Runs run_one(opts, tmp, mode) for each mode in turn, opts.runs times; prints every run,
    then the medians and the per-run ratio of the second mode to the first."""
    import tempfile
    root = Path(tempfile.mkdtemp(prefix="sluice-bench-"))
    runs = {m: [] for m in modes}
    for i in range(opts.runs):
        for mode in modes:
            r = run_one(opts, root / ("%s-%d" % (mode, i)), mode)
            runs[mode].append(r)
            print("run %d %s %-4s: %7.0f submits/s  p50 %.2f ms  p99 %.2f ms | at %d/s: p99 %.2f ms (achieved %.0f/s)"
                  % (i + 1, what, mode, r["rate"], r["p50"], r["p99"], opts.rate, r["paced_p99"], r["paced_rate"]),
                  flush=True)
    a, b = modes
    for key, label in (("rate", "closed-loop submits/s"), ("p99", "closed-loop p99 ms"),
                       ("paced_p99", "p99 ms at %d/s" % opts.rate)):
        ma = statistics.median(r[key] for r in runs[a])
        mb = statistics.median(r[key] for r in runs[b])
        ratios = ", ".join("%.3f" % (y[key] / x[key]) for x, y in zip(runs[a], runs[b]))
        print("median %-24s %s %9.2f  %s %9.2f  %s/%s %.3f  (per run: %s)"
              % (label, a, ma, b, mb, b, a, mb / ma, ratios))


def main():
    opts = arguments(__doc__)
    compare(opts, ("off", "on"), lambda o, tmp, mode: one(o, tmp, mode == "on"), "auth")


if __name__ == "__main__":
    main()
