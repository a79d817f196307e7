"""The eight scenarios of `make bench` (definitions: bench/README.md). Each function takes the
parsed options, a temp dir and the list of rows, and appends its rows as it measures them (so a
peer that fails later does not lose Sluice's figures):

    {"scenario": 3, "row": "sluice", "metric": "jobs/s", "values": [...one per run...],
     "better": "higher" | "lower", "peer": "bullmq" (the row of the same scenario and metric
     to compare with, or None), "note": "...", "noise": [{"others": cores, ...} per run]}

Every process a scenario starts is stopped when it returns or raises (context managers; the
harness and procs.py also kill leftovers at exit and when this process dies)."""
import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

import harness
import inflight
import procs
import sync_overhead
from jobs import bulk_bodies
from machine import Noise, proc_cpu_seconds

BENCH = Path(__file__).resolve().parent
TICKET = {"type": "classify_ticket", "input": {"text": "I was charged twice for one purchase, ticket s-1"}}


def row(scenario, name, metric, values, better="higher", peer=None, note=None, noise=None, unit=None):
    return {"scenario": scenario, "row": name, "metric": metric, "unit": unit or metric, "values": list(values),
            "better": better, "peer": peer, "note": note, "noise": noise or []}


def log(opts, text):
    print("  " + text, flush=True)


def worker_table(concurrency, lease="30s"):
    return {"concurrency": concurrency, "lease": lease, "heartbeat": "5s", "poll": "500ms", "retry_base": "1s",
            "retry_max": "5m", "grace": "5s"}


def sluice_server(opts, tmp, concurrency=1024, mock=None, providers=None, lease="30s"):
    """A durable sluice serve (the default embedded store) with worker.concurrency and the
    default queue's max_concurrency = `concurrency`; models on `mock`, else on `local`."""
    return harness.Server(mock=mock, providers=providers, worker=worker_table(concurrency, lease),
                          queues=[{"name": "default", "max_concurrency": concurrency, "reserved": 0}],
                          tmp_dir=tmp, bin=opts.bin)


def done_count(server_url):
    m = harness.parse_metrics(harness.request("GET", server_url + "/metrics", timeout=30).body)
    return (harness.metric_sum(m, "sluice_jobs", status="done") or 0,
            (harness.metric_sum(m, "sluice_jobs", status="failed") or 0) +
            (harness.metric_sum(m, "sluice_jobs", status="review") or 0) +
            (harness.metric_sum(m, "sluice_jobs", status="expired") or 0))


def bulk_end_to_end(server, bodies, clients, jobs, timeout=600):
    """Sends `bodies` (bulk requests of `jobs` jobs in all) from `clients` connections while the
    workers run; jobs/s from the first request until /metrics shows them all settled. Raises on
    a submit error or a job that did not end done."""
    sub = inflight.Submitter(server.port, bodies, clients)
    sub.start()
    deadline = time.monotonic() + timeout
    while True:
        done, bad = done_count(server.url)
        if done + bad >= jobs:
            end = time.monotonic()
            break
        if time.monotonic() > deadline:
            raise RuntimeError("%d of %d done after %d s" % (done, jobs, timeout))
        time.sleep(0.05)
    sub.join()
    if sub.errors or bad:
        raise RuntimeError("submit errors %s, %d jobs not done" % (sub.errors[:3], bad))
    return jobs / (end - sub.started)


def submit_bulk(port, bodies, clients):
    sub = inflight.Submitter(port, bodies, clients)
    sub.start()
    sub.join()
    if sub.errors:
        raise RuntimeError("bulk submit errors: %s" % sub.errors[:3])
    return sub


def run_loadgen(opts, argv):
    out = subprocess.run([str(opts.loadgen)] + [str(a) for a in argv], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def peers_or_note(opts):
    why = procs.peers_ready()
    if why and not opts.no_peers:
        raise RuntimeError("the BullMQ peer cannot run: %s (or pass --no-peers)" % why)
    return not opts.no_peers


def redis_modes(opts, with_aof=True):
    modes = [("bullmq", False)]
    if with_aof and not opts.no_aof:
        modes.append(("bullmq-aof", True))
    return modes


# ---------------------------------------------------------------------------------------------
# 1. submit, bulk

def s1_submit_bulk(opts, tmp, rows):
    n = opts.bulk_jobs
    rates, noise = [], []
    for i in range(opts.runs):
        bodies = bulk_bodies(n, "b%d" % i, 1000, run_in="1h")
        with sluice_server(opts, tmp / ("s1-%d" % i)) as s:
            nz = Noise([s.pid])
            sub = submit_bulk(s.port, bodies, opts.clients)
            noise.append(nz.stop())
        rates.append(n / (sub.finished - sub.started))
        log(opts, "sluice bulk submit run %d: %.0f jobs/s" % (i + 1, rates[-1]))
    rows += [row(1, "sluice", "jobs/s", rates, peer="bullmq", noise=noise,
                note="%d jobs, 1 000 per POST /v1/jobs/bulk, %d client threads, durable" % (n, opts.clients))]
    if peers_or_note(opts):
        for name, aof in redis_modes(opts):
            rates, noise = [], []
            for i in range(opts.runs):
                with procs.Redis(tmp / ("s1-%s-%d" % (name, i)), aof=aof) as r:
                    nz = Noise([r.pid])
                    res = procs.run_node("add-bulk", r.port, tmp, jobs=n, batch=1000, clients=opts.clients)
                    noise.append(nz.stop())
                rates.append(res["rate"])
                log(opts, "%s addBulk run %d: %.0f jobs/s" % (name, i + 1, rates[-1]))
            rows.append(row(1, name, "jobs/s", rates, noise=noise,
                            note="Queue.addBulk(1 000) from %d concurrent loops, Redis %s" %
                            (opts.clients, "AOF everysec" if aof else "without persistence")))


# ---------------------------------------------------------------------------------------------
# 2. submit, single

def s2_submit_single(opts, tmp, rows):
    tmp.mkdir(parents=True, exist_ok=True)
    body = tmp / "single.json"
    body.write_text(json.dumps(dict(TICKET, run_in="1h")))
    closed_rate, closed_p50, closed_p99, paced_p99, paced_due_p99, paced_rate, noise = [], [], [], [], [], [], []
    for i in range(opts.runs):
        with sluice_server(opts, tmp / ("s2-%d" % i)) as s:
            nz = Noise([s.pid])
            r = run_loadgen(opts, ["--closed", opts.single_clients, "--duration", opts.single_seconds,
                                   "--warmup", opts.warmup, "--target", "sluice", s.url + "/v1/jobs", body])
            t = r["targets"][0]
            if t["ok"] == 0 or t["measured"] != t["ok"]:
                raise RuntimeError("single submit: %d of %d ok: %s %s" % (t["ok"], t["measured"], t["statuses"],
                                                                         t["errors"]))
            closed_rate.append(t["achieved_rate"])
            closed_p50.append(t["latency_us"]["p50"] / 1000)
            closed_p99.append(t["latency_us"]["p99"] / 1000)
            r = run_loadgen(opts, ["--rate", opts.paced_rate, "--duration", opts.single_seconds, "--warmup",
                                   opts.warmup, "--max-conns", 256, "--target", "sluice", s.url + "/v1/jobs", body])
            noise.append(nz.stop())
            t = r["targets"][0]
            if t["measured"] != t["ok"]:
                raise RuntimeError("paced submit: %d of %d ok: %s %s" % (t["ok"], t["measured"], t["statuses"],
                                                                        t["errors"]))
            paced_p99.append(t["latency_us"]["p99"] / 1000)
            paced_due_p99.append(t["from_due_us"]["p99"] / 1000)
            paced_rate.append(t["achieved_rate"])
        log(opts, "sluice single submit run %d: %.0f jobs/s (p50 %.2f ms, p99 %.2f ms); at %d/s p99 %.2f ms"
            % (i + 1, closed_rate[-1], closed_p50[-1], closed_p99[-1], opts.paced_rate, paced_p99[-1]))
    note = "POST /v1/jobs, %d keep-alive clients (closed loop), %s s after %s s warm-up, durable" % (
        opts.single_clients, opts.single_seconds, opts.warmup)
    pnote = "open loop at %d/s (C++ loadgen), latency from first byte sent" % opts.paced_rate
    rows += [row(2, "sluice", "jobs/s", closed_rate, peer="bullmq", noise=noise, note=note),
            row(2, "sluice", "p50 ms (closed)", closed_p50, better="lower", peer="bullmq"),
            row(2, "sluice", "p99 ms (closed)", closed_p99, better="lower", peer="bullmq"),
            row(2, "sluice", "p99 ms at %d/s" % opts.paced_rate, paced_p99, better="lower", peer="bullmq", note=pnote),
            row(2, "sluice", "p99 ms from due at %d/s" % opts.paced_rate, paced_due_p99, better="lower",
                peer="bullmq", note="including any wait for a free connection"),
            row(2, "sluice", "achieved/s at %d/s" % opts.paced_rate, paced_rate)]
    if peers_or_note(opts):
        for name, aof in redis_modes(opts, with_aof=False):
            rate, p50, p99, pp99, pdue, prate, noise = [], [], [], [], [], [], []
            for i in range(opts.runs):
                with procs.Redis(tmp / ("s2-%s-%d" % (name, i)), aof=aof) as r:
                    nz = Noise([r.pid])
                    res = procs.run_node("add", r.port, tmp, seconds=opts.single_seconds, warmup=opts.warmup,
                                         clients=opts.single_clients)
                    rate.append(res["rate"])
                    p50.append(res["latency_us"]["p50"] / 1000)
                    p99.append(res["latency_us"]["p99"] / 1000)
                    res = procs.run_node("add-paced", r.port, tmp, rate=opts.paced_rate, seconds=opts.single_seconds,
                                         warmup=opts.warmup)
                    noise.append(nz.stop())
                    pp99.append(res["latency_us"]["p99"] / 1000)
                    pdue.append(res["from_due_us"]["p99"] / 1000)
                    prate.append(res["achieved_rate"])
                log(opts, "%s add run %d: %.0f jobs/s (p50 %.2f ms, p99 %.2f ms); at %d/s p99 %.2f ms"
                    % (name, i + 1, rate[-1], p50[-1], p99[-1], opts.paced_rate, pp99[-1]))
            rows += [row(2, name, "jobs/s", rate, noise=noise,
                         note="Queue.add from %d concurrent loops in one node process" % opts.single_clients),
                     row(2, name, "p50 ms (closed)", p50, better="lower"),
                     row(2, name, "p99 ms (closed)", p99, better="lower"),
                     row(2, name, "p99 ms at %d/s" % opts.paced_rate, pp99, better="lower",
                         note="open loop from node timers (~1 ms resolution)"),
                     row(2, name, "p99 ms from due at %d/s" % opts.paced_rate, pdue, better="lower"),
                     row(2, name, "achieved/s at %d/s" % opts.paced_rate, prate)]


# ---------------------------------------------------------------------------------------------
# 3 and 4. end to end

def sluice_e2e(opts, tmp, n, tag, mock_latency=None):
    """Jobs/s from the first bulk request to the first /metrics sample with done >= n."""
    bodies = bulk_bodies(n, tag, 1000)
    if mock_latency is None:
        with sluice_server(opts, tmp, concurrency=opts.e2e_concurrency) as s:
            return _e2e_measure(opts, s, n, bodies, [s.pid])
    with harness.MockLlm(latency=mock_latency, threads=opts.mock_threads, tmp_dir=tmp / "mock", bin=opts.bin) as m:
        providers = [{"name": "mock", "base_url": m.base_url, "timeout": "30s",
                      "max_concurrency": opts.e2e_concurrency}]
        with sluice_server(opts, tmp, concurrency=opts.e2e_concurrency, mock=m, providers=providers) as s:
            return _e2e_measure(opts, s, n, bodies, [s.pid, m.pid])


def _e2e_measure(opts, s, n, bodies, pids):
    nz = Noise(pids)
    cpu0 = proc_cpu_seconds(s.pid)
    perf = None
    if opts.perf_dir:
        opts.perf_dir.mkdir(parents=True, exist_ok=True)
        perf = subprocess.Popen(["perf", "record", "-g", "-o", str(opts.perf_dir / ("perf-%d.data" % s.pid)),
                                 "-p", str(s.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sub = inflight.Submitter(s.port, bodies, opts.clients)
    sub.start()
    deadline = time.monotonic() + opts.e2e_timeout
    bad = 0
    while True:
        done, bad = done_count(s.url)
        if done + bad >= n:
            end = time.monotonic()
            break
        if time.monotonic() > deadline:
            raise RuntimeError("end to end: %d of %d done after %.0f s" % (done, n, opts.e2e_timeout))
        time.sleep(0.05)
    sub.join()
    cpu = proc_cpu_seconds(s.pid) - cpu0
    noise = nz.stop()
    if perf is not None:
        perf.send_signal(2)
        perf.wait(timeout=60)
    if sub.errors or bad:
        raise RuntimeError("end to end: submit errors %s, %d jobs not done" % (sub.errors[:3], bad))
    return {"rate": n / (end - sub.started), "submit_s": sub.finished - sub.started, "cpu_us_per_job": cpu / n * 1e6,
            "noise": noise}


def bullmq_e2e(opts, tmp, n, concurrency, aof, delay_ms=0):
    with procs.Redis(tmp, aof=aof) as r:
        w = procs.NodePeer("work", r.port, tmp, jobs=n, concurrency=concurrency, delay_ms=delay_ms)
        try:
            w.line(60)   # ready
            nz = Noise([r.pid, w.pid])
            prod = procs.run_node("produce", r.port, tmp, jobs=n, batch=1000, clients=opts.clients,
                                  timeout=opts.e2e_timeout)
            w.line(opts.e2e_timeout)  # all started
            res = w.line(opts.e2e_timeout)
            noise = nz.stop()
        finally:
            w.kill()
    return {"rate": n / ((res["last_done"] - prod["start"]) / 1000), "noise": noise,
            "submit_rate": prod["rate"]}


def s3_e2e_local(opts, tmp, rows):
    n = opts.e2e_jobs
    rates, cpu, noise = [], [], []
    for i in range(opts.runs):
        r = sluice_e2e(opts, tmp / ("s3-%d" % i), n, "e%d" % i)
        rates.append(r["rate"])
        cpu.append(r["cpu_us_per_job"])
        noise.append(r["noise"])
        log(opts, "sluice e2e local run %d: %.0f jobs/s (submit took %.1f s, server CPU %.0f us/job)"
            % (i + 1, r["rate"], r["submit_s"], r["cpu_us_per_job"]))
    rows += [row(3, "sluice", "jobs/s", rates, peer="bullmq", noise=noise,
                note="%d jobs, bulk 1 000/request, due at once, model `local` (in process), durable, "
                     "worker.concurrency %d; first request -> last done" % (n, opts.e2e_concurrency)),
            row(3, "sluice", "server CPU us/job", cpu, better="lower")]
    if peers_or_note(opts):
        best_c, probe = None, {}
        for c in opts.peer_concurrency:
            probe[c] = bullmq_e2e(opts, tmp / ("s3-probe-%d" % c), min(n, opts.probe_jobs), c, aof=False)["rate"]
            log(opts, "bullmq probe concurrency %d: %.0f jobs/s (%d jobs)" % (c, probe[c], min(n, opts.probe_jobs)))
        best_c = max(probe, key=probe.get)
        for name, aof in redis_modes(opts):
            rates, noise = [], []
            for i in range(opts.runs):
                r = bullmq_e2e(opts, tmp / ("s3-%s-%d" % (name, i)), n, best_c, aof=aof)
                rates.append(r["rate"])
                noise.append(r["noise"])
                log(opts, "%s e2e run %d: %.0f jobs/s (concurrency %d)" % (name, i + 1, r["rate"], best_c))
            rows.append(row(3, name, "jobs/s", rates, noise=noise,
                            note="addBulk(1 000) from a producer process + a no-op Worker at concurrency %d "
                                 "(best of %s: %s), Redis %s" %
                                 (best_c, ",".join(map(str, opts.peer_concurrency)),
                                  ", ".join("%d: %.0f" % kv for kv in probe.items()),
                                  "AOF everysec" if aof else "without persistence")))


def s4_e2e_http(opts, tmp, rows):
    n = opts.e2e_http_jobs
    rates, cpu, noise = [], [], []
    for i in range(opts.runs):
        r = sluice_e2e(opts, tmp / ("s4-%d" % i), n, "h%d" % i, mock_latency="0ms")
        rates.append(r["rate"])
        cpu.append(r["cpu_us_per_job"])
        noise.append(r["noise"])
        log(opts, "sluice e2e via mock-llm run %d: %.0f jobs/s (server CPU %.0f us/job)"
            % (i + 1, r["rate"], r["cpu_us_per_job"]))
    rows += [row(4, "sluice", "jobs/s", rates, noise=noise,
                note="%d jobs as in 3, each a POST to mock-llm (latency 0) over loopback HTTP" % n),
            row(4, "sluice", "server CPU us/job", cpu, better="lower")]


# ---------------------------------------------------------------------------------------------
# 5. in flight

def s5_inflight(opts, tmp, rows):
    fds = inflight.raise_fd_limit(max(opts.inflight) + 2048)
    levels, notes = [], []
    for c in opts.inflight:
        fit = min(c, (fds - 1000) // 1000 * 1000)
        if fit != c:
            notes.append("%d in flight does not fit the open-files limit %d: measured at %d" % (c, fds, fit))
        if fit not in levels:
            levels.append(fit)
    a = argparse.Namespace(bin=opts.bin, latency="1s", mock_threads=opts.mock_threads, io_threads=0, overlap=False,
                           assumed_submit_rate=30000, clients=opts.clients, interval=0.1, run_timeout=90.0,
                           window=opts.inflight_window, top_threads=4, verbose=False)
    first = len(rows)
    for c in levels:
        rates, rss, errs, noise = [], [], [], []
        for i in range(opts.runs):
            nz = Noise([])
            r = inflight.one_run(a, c, opts.inflight_jobs, i, tmp / ("s5-%d-%d" % (c, i)))
            nz.stop()
            rates.append(r["steady_rate"] or 0.0)
            rss.append(r["rss_mib"])
            errs.append(inflight.error_count(r))
            noise.append({"others": r.get("others", 0.0), "pressure": r.get("pressure")})
            log(opts, "sluice C=%d run %d: %.0f jobs/s, RSS %.0f MiB, errors %d, other load %.2f cores"
                % (c, i + 1, rates[-1], rss[-1], errs[-1], noise[-1]["others"]))
        label = "sluice C=%d" % c
        peer = "bullmq C=%d" % opts.peer_inflight if c == opts.peer_inflight else None
        rows += [row(5, label, "jobs/s", rates, peer=peer, noise=noise,
                     note="mock-llm latency 1 s, %d jobs prefilled, steady window (see inflight)" % opts.inflight_jobs),
                 row(5, label, "% of ideal", [100 * x / c for x in rates]),
                 row(5, label, "peak RSS MiB", rss, better="lower", peer=peer),
                 row(5, label, "errors", errs, better="lower")]
    if notes:
        rows[first]["note"] += "; " + "; ".join(notes)
    if peers_or_note(opts):
        c = opts.peer_inflight
        rates, rss, noise = [], [], []
        for i in range(opts.runs):
            r = bullmq_inflight(opts, tmp / ("s5-bullmq-%d" % i), c)
            rates.append(r["rate"])
            rss.append(r["rss_mib"])
            noise.append(r["noise"])
            log(opts, "bullmq C=%d run %d: %.0f jobs/s, RSS node+redis %.0f MiB" % (c, i + 1, rates[-1], rss[-1]))
        rows += [row(5, "bullmq C=%d" % c, "jobs/s", rates, noise=noise,
                     note="Worker concurrency %d, handler awaits 1 s (setTimeout, no HTTP), %d jobs prefilled, "
                          "Redis without persistence" % (c, opts.inflight_jobs)),
                 row(5, "bullmq C=%d" % c, "% of ideal", [100 * x / c for x in rates]),
                 row(5, "bullmq C=%d" % c, "peak RSS MiB", rss, better="lower", note="node + redis VmHWM")]


def bullmq_inflight(opts, tmp, concurrency):
    n = opts.inflight_jobs
    with procs.Redis(tmp, aof=False) as r:
        procs.run_node("produce", r.port, tmp, jobs=n, batch=1000, clients=opts.clients)
        w = procs.NodePeer("work", r.port, tmp, jobs=n, concurrency=concurrency, delay_ms=1000)
        try:
            w.line(60)
            nz = Noise([r.pid, w.pid])
            w.line(120)   # all started: the queue is empty from then on
            res = w.line(120)
            noise = nz.stop()
            redis_kib = procs.vm_hwm_kib(r.pid)
        finally:
            w.kill()
    # The steady window as for sluice: from one latency after the first completion, for at most
    # --inflight-window s, ending when the last job has started.
    series = res["series"]
    start_b = 10   # 1 s after the first completion, in 100 ms buckets
    end_b = min(len(series), start_b + int(opts.inflight_window * 10),
                max(start_b + 1, (res["all_started"] - res["first_done"]) // 100))
    rate = sum(series[start_b:end_b]) / ((end_b - start_b) / 10) if end_b > start_b else 0.0
    return {"rate": rate, "rss_mib": (res["max_rss_kib"] + redis_kib) / 1024, "noise": noise}


# ---------------------------------------------------------------------------------------------
# 6. depth

def s6_depth(opts, tmp, rows):
    tool = Path(opts.bin).resolve().parent / "sluice_store_depth"
    if not tool.exists():
        raise RuntimeError("%s is missing (built with sluice by CMake)" % tool)
    first = len(rows)
    for durable in (True, False):
        d = tmp / ("s6-%s" % durable)
        shutil.rmtree(d, ignore_errors=True)
        d.mkdir(parents=True)
        out = subprocess.run([str(tool), "--dir", str(d), "--depths", ",".join(map(str, opts.depths)),
                              "--batches", "100", "--iterations", str(opts.depth_iterations), "--runs", str(opts.runs)]
                             + ([] if durable else ["--no-durable"]), check=True, capture_output=True, text=True).stdout
        shutil.rmtree(d, ignore_errors=True)
        r = json.loads(out)
        shallow = r["depths"][0]["depth"]
        mode = "fsync" if durable else "no fsync"
        for dep in r["depths"]:
            ops = dep["batches"]["100"]
            log(opts, "depth %d, %s (filled in %.1f s): %s" % (dep["depth"], mode, dep["fill_s"], ", ".join(
                "%s %.0f us" % (op[:-3], statistics.median(v)) for op, v in ops.items())))
            for op in ("submit_us", "claim_us", "finish_us"):
                rows.append(row(6, "depth %d" % dep["depth"], "%s 100, %s, us" % (op[:-3], mode), ops[op],
                                better="lower", peer=None if dep["depth"] == shallow else "depth %d" % shallow))
    rows[first]["note"] = ("store level (bench/store_depth: the SQLite engine through the Store interface): one call "
                       "each of submit 100, claim 100 (queue head), finish 100 as done, depth held constant; "
                       "%d iterations; durable (fsync per commit) and not; ratio = shallow / deep (flat: >= 0.67)"
                       % opts.depth_iterations)


# ---------------------------------------------------------------------------------------------
# 7. gateway overhead

def s7_sync(opts, tmp, rows):
    a = argparse.Namespace(bin=opts.bin, mock_threads=opts.mock_threads, io_threads=0, rate=opts.sync_rate,
                           duration=opts.sync_seconds, warmup=opts.warmup, max_conns=64)
    p50, p99, d99, noise = [], [], [], []
    for i in range(opts.runs):
        r = sync_overhead.one_run(a, opts.loadgen, tmp / ("s7-%d" % i))
        for t in ("direct", "sluice"):
            if sync_overhead.errors(r[t]):
                raise RuntimeError("sync overhead: %s errors %s" % (t, r[t]["errors"] or r[t]["statuses"]))
        d, s = r["direct"]["latency_us"], r["sluice"]["latency_us"]
        p50.append(s["p50"] - d["p50"])
        p99.append(s["p99"] - d["p99"])
        d99.append(d["p99"])
        noise.append({"others": r["others"], "pressure": r["pressure"]})
        log(opts, "sync run %d: added p50 %.0f us, p99 %.0f us (direct p99 %.0f us)" % (i + 1, p50[-1], p99[-1],
                                                                                      d99[-1]))
    rows += [row(7, "sluice", "added p50 us", p50, better="lower", noise=noise,
                note="/v1/chat/completions via sluice vs mock-llm directly, %d req/s each, %s s, open loop"
                     % (opts.sync_rate, opts.sync_seconds)),
            row(7, "sluice", "added p99 us", p99, better="lower"),
            row(7, "direct", "p99 us", d99, better="lower")]


# ---------------------------------------------------------------------------------------------
# 8. recovery

def s8_recovery(opts, tmp, rows):
    c = opts.recovery_jobs
    ready, again, noise = [], [], []
    for i in range(opts.runs):
        r = sluice_recovery(opts, tmp / ("s8-%d" % i), c)
        ready.append(r["ready_s"])
        again.append(r["again_s"])
        noise.append(r["noise"])
        log(opts, "sluice recovery run %d: ready %.2f s, all %d running again %.2f s after kill -9"
            % (i + 1, r["ready_s"], c, r["again_s"]))
    rows += [row(8, "sluice", "s to all running again", again, better="lower", peer="bullmq", noise=noise,
                note="%d jobs in flight (mock-llm latency 60 s), kill -9, restart at once; until the mock has "
                     "received every job's next attempt" % c),
            row(8, "sluice", "s to ready", ready, better="lower")]
    if peers_or_note(opts) and not opts.no_recovery_peer:
        again = []
        for i in range(opts.runs):
            again.append(bullmq_recovery(opts, tmp / ("s8-bullmq-%d" % i), c))
            log(opts, "bullmq recovery run %d: all %d active again %.2f s after kill -9" % (i + 1, c, again[-1]))
        rows.append(row(8, "bullmq", "s to all running again", again, better="lower",
                        note="Worker concurrency %d, handler awaits 60 s; kill -9 of the worker process, a new one "
                             "started at once; BullMQ defaults (lockDuration 30 s, stalledInterval 30 s)" % c))


def sluice_recovery(opts, tmp, c):
    with harness.MockLlm(latency="60s", threads=opts.mock_threads, tmp_dir=tmp / "mock", bin=opts.bin) as m:
        providers = [{"name": "mock", "base_url": m.base_url, "timeout": "120s", "max_concurrency": c}]
        with sluice_server(opts, tmp, concurrency=c, mock=m, providers=providers, lease="15s") as s:
            submit_bulk(s.port, bulk_bodies(c, "k", 1000), opts.clients)
            harness.wait_until(lambda: m.stats()["requests"] >= c, timeout=60, message="every job in flight")
            nz = Noise([m.pid])
            t_kill = time.monotonic()
            s.kill9()
            s.restart(wait_ready=False)
            s.wait_ready(timeout=60)
            t_ready = time.monotonic()
            harness.wait_until(lambda: m.stats()["requests"] >= 2 * c, timeout=120, interval=0.01,
                               message="every job running again")
            t_again = time.monotonic()
            noise = nz.stop()
    return {"ready_s": t_ready - t_kill, "again_s": t_again - t_kill, "noise": noise}


def bullmq_recovery(opts, tmp, c):
    with procs.Redis(tmp, aof=False) as r:
        procs.run_node("produce", r.port, tmp, jobs=c, batch=1000, clients=1)
        a = procs.NodePeer("work", r.port, tmp, jobs=c, concurrency=c, delay_ms=600000)
        try:
            a.line(60)
            a.line(60)   # all started
            t_kill = time.monotonic()
            a.kill()
            b = procs.NodePeer("work", r.port, tmp, jobs=c, concurrency=c, delay_ms=600000)
            try:
                b.line(60)
                b.line(180)  # all started again
                return time.monotonic() - t_kill
            finally:
                b.kill()
        finally:
            a.kill()


SCENARIOS = {
    1: ("submit, bulk", s1_submit_bulk),
    2: ("submit, single", s2_submit_single),
    3: ("end to end, instant model", s3_e2e_local),
    4: ("end to end through HTTP", s4_e2e_http),
    5: ("in flight", s5_inflight),
    6: ("depth", s6_depth),
    7: ("gateway overhead", s7_sync),
    8: ("recovery", s8_recovery),
}
