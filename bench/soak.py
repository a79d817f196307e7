#!/usr/bin/env python3
"""Chaos soak: `sluice serve` on the embedded SQLite store, a `sluice mock-llm` that answers ~30 %
of the calls with a fault of every kind it has, clients submitting jobs all the time (single,
bulk, adaptive ?wait=, some with dedup keys and resubmitted after a crash), and `kill -9` of the
server at random moments, restarted at once on the same data dir, --cycles times; as root, the
middle cycle also fills the data disk (a tmpfs) under load and crashes the server while it is
full. Then the load stops, the provider recovers (unless --faults-in-drain), a last kill -9 and
restart, the keyed submits that never got an answer are sent again, and once every job has
settled come the checks (DESIGN.md "Semantics that must hold"):

  lost             an id acknowledged by 202 / 200 / a bulk item that the server does not know
                   (through the API after the last restart, and in the store after the stop)
  duplicates       a dedup key answered with two ids, a dedup key with two jobs in the store, a
                   result whose attempts hold more than one "ok", a result for another job, a
                   done job without a result
  not_settled      a job still queued or running once everything should have finished, or one
                   that ended failed / expired / review without an error code
  over_attempts    a job whose attempt counter or attempt records go past its max_attempts
  bad_timestamps   a finished_at or event time in the store later than the run (a lease taken
                   back at start used to stamp a failed job "at the end of time")

It prints the counts and the totals as a table, writes them as JSON with --json, and exits 1
when any of these counts is not 0 (2 when the run itself could not be carried out). The
temp dir (logs, config, a copy of the store) is kept when a count is not 0.

    python3 bench/soak.py                 # 20 cycles of ~6 s, ~3-4 min
    python3 bench/soak.py --quick         # 3 cycles, well under a minute (CI: test_soak.py)
    python3 bench/soak.py --cycles 50 --rate 80 --faults 0.4 --json /tmp/soak.json

Real processes on 127.0.0.1 only; Python standard library only. The binary is --bin, else
$SLUICE_BIN, else build/sluice.
"""
import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import shutil
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "integration"))
import harness  # noqa: E402

NET_ERRORS = (OSError, http.client.HTTPException)
STATUS_NAMES = {0: "queued", 1: "running", 2: "done", 3: "failed", 4: "review", 5: "expired", 6: "canceled"}
TERMINAL = set(harness.TERMINAL)
NEED_REASON = {"failed", "expired", "review"}

TICKETS = [
    "I was charged twice for the same purchase",
    "My transfer to my mother has not arrived after three days",
    "I want to repay my mortgage early, what are the fees",
    "My card is blocked and I am abroad",
    "I cannot log in to the app since the update",
    "Please change the phone number on my account",
    "There is a payment I do not recognise, I think my card was stolen",
    "Do you have a branch near the central station",
]
TRANSCRIPT = ("Agent: Hello, how can I help? Customer: My card was declined in a shop abroad. "
              "Agent: I see a fraud block, I have removed it. Customer: Thank you.")

# Every fault the mock has. The rates (--faults split over these) apply to every call; each
# cycle also loads a short script that brings in the kinds with no rate of their own
# (truncated, the two garbage variants, other statuses).
RATE_SHARES = {"error_rate": 0.25, "rate_429": 0.2, "timeout_rate": 0.1, "garbage_rate": 0.25,
               "reset_rate": 0.2}
ERROR_STATUSES = [500, 502, 503, 504, 400, 404]     # 400/404: non-retryable, the job fails at once
SCRIPT_FAULTS = ["truncated", "garbage_body", "garbage_content", "429", "500", "503", "reset",
                 "timeout", "400", "ok"]


def log(msg):
    sys.stderr.write("[soak %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


# ---------------------------------------------------------------------------------------------
# What the clients saw.

class Ledger:
    """Every acknowledged id and what it was submitted with; every dedup key's ids."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}                      # id -> {"max_attempts", "dedup_key", "kind"}
        self.dedup_ids = defaultdict(set)    # dedup_key -> ids it was answered with
        self.counts = Counter()              # submitted, acked, deduplicated, http_<code>, net_errors ...

    def ack(self, job_id, body, kind, deduplicated):
        with self.lock:
            key = body.get("dedup_key")
            if key:
                self.dedup_ids[key].add(job_id)
            if job_id not in self.acked:
                self.acked[job_id] = {"max_attempts": body.get("max_attempts", 3), "dedup_key": key, "kind": kind}
            self.counts["acked"] += 1
            if deduplicated:
                self.counts["deduplicated"] += 1

    def count(self, what, n=1):
        with self.lock:
            self.counts[what] += n


class Submitter(threading.Thread):
    """One client: its own keep-alive connection, paced at `rate` jobs/s. Kinds: single (some
    with a dedup key), bulk of 5..20 (some keyed), adaptive ?wait=2s. A keyed submit whose answer
    was lost to a crash is sent again later, as a careful client would (the key makes it safe);
    an unkeyed one is not (it was never acknowledged, so it does not count)."""

    def __init__(self, n, url, ledger, rate, stop, seed, key_pool):
        super().__init__(daemon=True, name="submitter-%d" % n)
        self.n, self.url, self.ledger, self.rate, self.stop = n, url, ledger, rate, stop
        self.rng = random.Random(seed)
        self.key_pool = key_pool
        self.retry = []                      # (kind, bodies) of keyed submits with no answer
        self.seq = 0

    def job_body(self):
        self.seq += 1
        r = self.rng.random()
        tag = "c%d-%d" % (self.n, self.seq)
        if r < 0.7:
            body = {"type": "classify_ticket",
                    "input": {"text": "%s (ref %s)" % (self.rng.choice(TICKETS), tag)}}
        elif r < 0.85:
            body = {"type": "summarize", "input": {"text": TRANSCRIPT + " Ref " + tag}}
        else:
            body = {"type": "chat", "request": {"model": "fast", "messages": [
                {"role": "user", "content": "Say hello to %s" % tag}]}}
        body["max_attempts"] = self.rng.randint(3, 5)
        if self.rng.random() < 0.1:
            body["deadline_in"] = self.rng.choice(["5s", "10s", "20s"])
        if self.rng.random() < 0.25:
            # From a shared pool: some keys are submitted by several clients, across crashes.
            body["dedup_key"] = "soak-%d" % self.rng.randrange(self.key_pool)
        return body

    def send(self, client, kind, bodies):
        """Returns True when the server answered (whatever it said), False on a network error."""
        self.ledger.count("submitted", len(bodies))
        try:
            if kind == "bulk":
                r = client.post("/v1/jobs/bulk", json={"jobs": bodies}, timeout=30)
            elif kind == "wait":
                r = client.post("/v1/jobs?wait=2s", json=bodies[0], timeout=15)
            else:
                r = client.post("/v1/jobs", json=bodies[0], timeout=10)
        except NET_ERRORS:
            client.close()
            self.ledger.count("net_errors")
            if any(b.get("dedup_key") for b in bodies):
                self.retry.append((kind, [b for b in bodies if b.get("dedup_key")]))
            return False
        self.ledger.count("http_%d" % r.status)
        if kind == "bulk" and r.status == 200:
            for b, item in zip(bodies, r.body.get("jobs", [])):
                if "id" in item:
                    self.ledger.ack(item["id"], b, kind, item.get("deduplicated", False))
                else:
                    self.ledger.count("item_error_%s" % (item.get("error") or {}).get("code"))
        elif r.status in (200, 202) and isinstance(r.body, dict) and "id" in r.body:
            self.ledger.ack(r.body["id"], bodies[0], kind, r.body.get("deduplicated", False))
        elif r.status == 503 and any(b.get("dedup_key") for b in bodies):
            self.retry.append((kind, [b for b in bodies if b.get("dedup_key")]))   # not ready: later
        return True

    def run(self):
        client = harness.Client(self.url, timeout=10)
        per_thread = max(0.1, self.rate)
        next_at = time.monotonic()
        try:
            while not self.stop.is_set():
                if self.retry and self.rng.random() < 0.5:
                    kind, bodies = self.retry.pop(0)
                    self.ledger.count("resubmitted", len(bodies))
                else:
                    r = self.rng.random()
                    kind = "bulk" if r < 0.15 else "wait" if r < 0.25 else "single"
                    bodies = [self.job_body() for _ in range(self.rng.randint(5, 20) if kind == "bulk" else 1)]
                answered = self.send(client, kind, bodies)
                if not answered:
                    time.sleep(0.05)         # the server is down: do not spin
                next_at += len(bodies) / per_thread
                delay = next_at - time.monotonic()
                if delay > 0:
                    self.stop.wait(delay)
                elif delay < -2:
                    next_at = time.monotonic()   # fell behind (a restart): no burst to catch up
        finally:
            client.close()

    def flush_retries(self, deadline):
        """After the last restart: every keyed submit that never got an answer, until answered."""
        client = harness.Client(self.url, timeout=10)
        try:
            while self.retry and time.monotonic() < deadline:
                kind, bodies = self.retry.pop(0)
                self.ledger.count("resubmitted", len(bodies))
                if not self.send(client, kind, bodies):
                    time.sleep(0.2)
        finally:
            client.close()
        return len(self.retry)


# ---------------------------------------------------------------------------------------------
# The run.

def fault_rates(total):
    return {k: round(total * share, 4) for k, share in RATE_SHARES.items()}


def mock_settings(rng, faults, script_len):
    s = fault_rates(faults)
    s["error_status"] = rng.choice(ERROR_STATUSES)
    s["retry_after_s"] = rng.choice([1, 2])
    s["timeout_hold_ms"] = 8000
    s["script"] = ",".join(rng.choice(SCRIPT_FAULTS) for _ in range(script_len))
    return s


class TmpfsDisk:
    """The data dir on a tmpfs of its own, so that the disk can be filled (a filler file next to
    the data dir takes every free byte) and freed again. Needs root and a working mount."""

    def __init__(self, path, size="256m"):
        self.path, self.size = Path(path), size
        self.mounted = False
        self.filler = self.path / "filler"

    def mount(self):
        """None when mounted, else why not."""
        if os.geteuid() != 0:
            return "not root"
        self.path.mkdir(parents=True, exist_ok=True)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + self.size, "tmpfs", str(self.path)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return "mount -t tmpfs failed: " + r.stderr.strip()
        self.mounted = True
        return None

    def fill(self):
        written = 0
        with open(self.filler, "wb", buffering=0) as f:
            for chunk in (1 << 20, 1 << 12):
                block = b"\0" * chunk
                while True:
                    try:
                        f.write(block)
                        written += chunk
                    except OSError:
                        break
        return written

    def free(self):
        try:
            self.filler.unlink()
        except OSError:
            pass

    def unmount(self):
        if self.mounted:
            subprocess.run(["umount", "-l", str(self.path)], capture_output=True)
            self.mounted = False


def count_live(server):
    """Jobs queued or running, through the API; None when the server does not answer."""
    n = 0
    for status in ("queued", "running"):
        r = harness.request("GET", server.url + "/v1/jobs?status=%s&limit=1" % status, timeout=10)
        if r.status != 200:
            return None
        n += len(r.body.get("data", []))
    return n


def check_api(server, ledger):
    """Every acknowledged id through the API: known, settled with a reason, one result."""
    out = Counter()
    examples = defaultdict(list)
    statuses, fail_codes = Counter(), Counter()
    client = harness.Client(server.url, timeout=30)

    def bad(what, detail):
        out[what] += 1
        if len(examples[what]) < 5:
            examples[what].append(detail)

    try:
        for job_id, sub in sorted(ledger.acked.items()):
            r = client.get("/v1/jobs/" + job_id)
            if r.status == 404:
                bad("lost", job_id)
                continue
            if r.status != 200:
                bad("api_errors", "%s: %r" % (job_id, r))
                continue
            job = r.body
            st = job.get("status")
            statuses[st] += 1
            err = (job.get("error") or {}).get("code")
            if st not in TERMINAL and st != "review":
                bad("not_settled", "%s %s" % (job_id, st))
            elif st in NEED_REASON and not err:
                bad("no_reason", "%s %s error=%r" % (job_id, st, job.get("error")))
            if st in ("failed", "expired", "review"):
                fail_codes["%s:%s" % (st, err)] += 1
            max_att = job.get("max_attempts") or sub["max_attempts"]
            if (job.get("attempt") or 0) > max_att:
                bad("over_attempts", "%s attempt %s of %s" % (job_id, job.get("attempt"), max_att))
            if st == "done":
                res = client.get("/v1/jobs/%s/result" % job_id)
                if res.status != 200:
                    bad("done_without_result", "%s: %r" % (job_id, res))
                    continue
                rec = res.body
                if rec.get("job_id") != job_id:
                    bad("result_of_other_job", "%s has %s" % (job_id, rec.get("job_id")))
                attempts = rec.get("attempts") or []
                oks = [a for a in attempts if a.get("outcome") == "ok"]
                if len(oks) != 1:
                    bad("ok_attempts_not_1", "%s: %r" % (job_id, [(a.get("n"), a.get("outcome")) for a in attempts]))
                ns = [a.get("n") for a in attempts]
                if ns and max(ns) > max_att:
                    bad("over_attempts", "%s attempts n=%r of %s" % (job_id, ns, max_att))
        for key, ids in ledger.dedup_ids.items():
            if len(ids) > 1:
                bad("dedup_key_two_ids", "%s -> %s" % (key, sorted(ids)))
    finally:
        client.close()
    return out, examples, statuses, fail_codes


def check_store(db_path, ledger):
    """The same from the SQLite file, with the server stopped."""
    out = Counter()
    examples = defaultdict(list)
    info = {}

    def bad(what, rows):
        out[what] += len(rows)
        examples[what].extend(str(r) for r in rows[:5])

    con = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        info["integrity"] = con.execute("PRAGMA integrity_check").fetchone()[0]
        if info["integrity"] != "ok":
            out["store_corrupt"] += 1
        info["jobs"] = con.execute("SELECT count(*) FROM jobs").fetchone()[0]
        info["by_status"] = {STATUS_NAMES.get(s, s): n for s, n in
                             con.execute("SELECT status, count(*) FROM jobs GROUP BY status")}
        known = {row[0] for row in con.execute("SELECT id FROM jobs")}
        lost = [i for i in ledger.acked if i not in known]
        bad("lost", lost)
        bad("not_settled", con.execute("SELECT id, status FROM jobs WHERE status IN (0, 1)").fetchall())
        bad("no_reason", con.execute("SELECT id, status FROM jobs WHERE status IN (3, 4, 5) AND "
                                     "(error_code IS NULL OR error_code = '')").fetchall())
        bad("over_attempts", con.execute("SELECT id, attempt, max_attempts FROM jobs "
                                         "WHERE attempt > max_attempts").fetchall())
        bad("over_attempts", con.execute("SELECT a.job_id, max(a.n), j.max_attempts FROM attempts a "
                                         "JOIN jobs j ON j.id = a.job_id GROUP BY a.job_id "
                                         "HAVING max(a.n) > j.max_attempts").fetchall())
        bad("dedup_key_two_jobs", con.execute("SELECT tenant, dedup_key, count(*) FROM jobs WHERE dedup_key != '' "
                                              "GROUP BY tenant, dedup_key HAVING count(*) > 1").fetchall())
        bad("two_results", con.execute("SELECT job_id, count(*) FROM results GROUP BY job_id "
                                       "HAVING count(*) > 1").fetchall())
        bad("done_without_result", con.execute("SELECT id FROM jobs WHERE status = 2 AND id NOT IN "
                                               "(SELECT job_id FROM results)").fetchall())
        # Times the server wrote must be times of this run (a job failed "at the end of time"
        # breaks retention, stats and every client that reads finished_at).
        horizon = int(time.time() * 1000) + 3_600_000
        bad("bad_timestamps", con.execute("SELECT id, 'finished_at', finished_at FROM jobs WHERE finished_at > ?",
                                          (horizon,)).fetchall())
        bad("bad_timestamps", con.execute("SELECT job_id, type, at FROM events WHERE at > ?", (horizon,)).fetchall())
        info["results"] = con.execute("SELECT count(*) FROM results").fetchone()[0]
        info["attempt_records"] = con.execute("SELECT count(*) FROM attempts").fetchone()[0]
        info["results_of_not_done"] = con.execute("SELECT count(*) FROM results r JOIN jobs j ON j.id = r.job_id "
                                                  "WHERE j.status != 2").fetchone()[0]
    finally:
        con.close()
    return out, examples, info


INVARIANTS = {
    "lost": ["lost", "store_missing", "store_corrupt"],
    "duplicates": ["dedup_key_two_ids", "dedup_key_two_jobs", "two_results", "ok_attempts_not_1",
                   "result_of_other_job", "done_without_result"],
    "not_settled": ["not_settled", "no_reason"],
    "over_attempts": ["over_attempts"],
    "bad_timestamps": ["bad_timestamps"],
}


def run(args):
    rng = random.Random(args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="sluice-soak-"))
    started = time.monotonic()
    report = {"config": {k: v for k, v in vars(args).items() if k != "json"}, "tmp_dir": str(tmp)}
    log("temp dir %s" % tmp)

    mock = harness.MockLlm(bin=args.bin, tmp_dir=tmp, latency="%dms" % args.latency_ms,
                           jitter="%dms" % (args.latency_ms * 3 // 4), seed=args.seed)
    disk, disk_full_info, server = None, None, None
    stop = threading.Event()
    restarts, ready_s = 0, []
    try:
        mock.start()
        # The rates and the rest through /mock/config (one place for every knob).
        mock.configure(mock_settings(rng, args.faults, 0))
        if args.disk_full:
            disk = TmpfsDisk(tmp / "disk")
            why = disk.mount()
            if why:
                log("no disk-full phase: %s" % why)
                disk, disk_full_info = None, {"skipped": why}
        providers = [{"name": "mock", "base_url": mock.base_url, "timeout": args.provider_timeout,
                      "max_concurrency": 64}]
        server = harness.Server(bin=args.bin, tmp_dir=tmp, mock=mock, providers=providers,
                                data_dir=(disk.path / "data") if disk else None,
                                worker={"concurrency": 32, "lease": "2s", "heartbeat": "400ms", "poll": "100ms",
                                        "retry_base": "100ms", "retry_max": "1s", "grace": "1s"})
        server.start()
        ledger = Ledger()
        per_client = args.rate / args.clients
        subs = [Submitter(n, server.url, ledger, per_client, stop, rng.randrange(1 << 30), args.key_pool)
                for n in range(args.clients)]
        for s in subs:
            s.start()

        for cycle in range(1, args.cycles + 1):
            mock.configure(mock_settings(rng, args.faults, rng.randint(5, 30)))
            time.sleep(args.cycle_seconds * rng.uniform(0.5, 1.5))
            full_cycle = disk is not None and cycle == max(1, args.cycles // 2)
            if full_cycle:
                # The disk fills under load; the crash comes while it is full; space is back
                # before the restart.
                filled = disk.fill()
                log("cycle %d: data disk full (%d MiB of filler); load goes on for %.1f s"
                    % (cycle, filled >> 20, args.cycle_seconds / 2))
                before = dict(ledger.counts)
                time.sleep(args.cycle_seconds / 2)
                disk_full_info = {"cycle": cycle, "filler_mib": filled >> 20,
                                  "http_503_while_full": ledger.counts["http_503"] - before.get("http_503", 0),
                                  "http_500_while_full": ledger.counts["http_500"] - before.get("http_500", 0),
                                  "acked_while_full": ledger.counts["acked"] - before.get("acked", 0),
                                  "server_alive_while_full": server.alive()}
            t0 = time.monotonic()
            server.kill9()
            if full_cycle:
                disk.free()
            time.sleep(rng.uniform(0, 0.5))
            server.restart()
            restarts += 1
            ready_s.append(time.monotonic() - t0)
            log("cycle %d/%d: kill -9 + restart in %.2f s; acked %d so far"
                % (cycle, args.cycles, ready_s[-1], ledger.counts["acked"]))
        # Load ends; a last crash while work is still in flight, then everything must settle.
        stop.set()
        for s in subs:
            s.join(timeout=60)
        if not args.faults_in_drain:
            # The provider recovers: what is left must now settle. (With the faults on, a random
            # 429 every ~16 calls keeps the provider's AIMD limit near 1 and the drain takes
            # minutes; --faults-in-drain shows it.)
            mock.configure({"error_rate": 0, "rate_429": 0, "timeout_rate": 0, "garbage_rate": 0,
                            "reset_rate": 0, "script": ""})
        server.kill9()
        server.restart()
        restarts += 1
        log("final kill -9 + restart; resubmitting unanswered keyed submits")
        deadline = time.monotonic() + 60
        unanswered = sum(s.flush_retries(deadline) for s in subs)
        log("waiting for every job to settle (at most %d s)" % args.drain_timeout)
        drain_start = time.monotonic()
        try:
            harness.wait_until(lambda: count_live(server) == 0, timeout=args.drain_timeout,
                               message="no job queued or running")
        except harness.WaitTimeout as e:
            log(str(e))
        drain_s = time.monotonic() - drain_start
        api_bad, api_examples, statuses, fail_codes = check_api(server, ledger)
        mock_stats = mock.stats()
        code = server.stop()
        store_bad, store_examples, store_info = check_store(server.data_dir / "sluice.db", ledger) \
            if (server.data_dir / "sluice.db").exists() else (Counter({"store_missing": 1}), {}, {})
    finally:
        stop.set()
        if server is not None:
            server.stop(sig=signal.SIGKILL)
        mock.stop()
        if disk is not None:
            # The store outlives the tmpfs, for a look afterwards (the temp dir is kept on failure).
            shutil.copytree(disk.path / "data", tmp / "data", ignore_dangling_symlinks=True,
                            dirs_exist_ok=True) if (disk.path / "data").exists() else None
            disk.unmount()

    elapsed = time.monotonic() - started
    counts = {}
    for name, parts in INVARIANTS.items():
        counts[name] = sum(max(api_bad.get(p, 0), store_bad.get(p, 0)) for p in parts)
    report.update({
        "invariants": counts,
        "details": {"api": dict(api_bad), "store": dict(store_bad)},
        "examples": {"api": {k: v for k, v in api_examples.items()},
                     "store": {k: v for k, v in store_examples.items()}},
        "totals": {
            "submitted": ledger.counts["submitted"], "acked": ledger.counts["acked"],
            "acked_ids": len(ledger.acked), "deduplicated": ledger.counts["deduplicated"],
            "resubmitted": ledger.counts["resubmitted"], "net_errors": ledger.counts["net_errors"],
            "unanswered_keyed": unanswered,
            "http": {k[5:]: v for k, v in sorted(ledger.counts.items()) if k.startswith("http_")},
            "bulk_item_errors": {k[11:]: v for k, v in sorted(ledger.counts.items()) if k.startswith("item_error_")},
            "status": dict(statuses), "failed_by_code": dict(sorted(fail_codes.items())),
            "restarts": restarts, "restart_to_ready_s_max": round(max(ready_s, default=0), 2),
            "drain_s": round(drain_s, 1), "elapsed_s": round(elapsed, 1),
            "server_exit_on_sigterm": code, "disk_full": disk_full_info,
            "mock": {"requests": mock_stats.get("requests"), "outcomes": mock_stats.get("outcomes")},
            "store": store_info,
        },
    })
    return report


def print_table(rep):
    t = rep["totals"]
    rows = [("invariant: acknowledged jobs lost", rep["invariants"]["lost"]),
            ("invariant: duplicate results / dedup", rep["invariants"]["duplicates"]),
            ("invariant: not settled with a reason", rep["invariants"]["not_settled"]),
            ("invariant: attempts > max_attempts", rep["invariants"]["over_attempts"]),
            ("invariant: times past the run (store)", rep["invariants"]["bad_timestamps"]),
            ("", ""),
            ("jobs submitted (incl. resubmits)", t["submitted"]),
            ("acknowledged (distinct ids)", "%d (%d)" % (t["acked"], t["acked_ids"])),
            ("  of which deduplicated (200)", t["deduplicated"]),
            ("keyed resubmits after no answer", t["resubmitted"]),
            ("network errors seen by clients", t["net_errors"]),
            ("HTTP answers", " ".join("%s:%d" % kv for kv in t["http"].items())),
            ("final status", " ".join("%s:%d" % kv for kv in sorted(t["status"].items()))),
            ("kill -9 + restarts", t["restarts"]),
            ("slowest kill -> ready (s)", t["restart_to_ready_s_max"]),
            ("drain after last restart (s)", t["drain_s"]),
            ("elapsed (s)", t["elapsed_s"]),
            ("mock calls", t["mock"]["requests"]),
            ("store jobs / results / attempts", "%s / %s / %s" % (t["store"].get("jobs"), t["store"].get("results"),
                                                                 t["store"].get("attempt_records"))),
            ]
    width = max(len(r[0]) for r in rows)
    for k, v in rows:
        print("%-*s  %s" % (width, k, v))
    print("failed / expired / review by code:")
    for k, v in t["failed_by_code"].items():
        print("  %-*s  %d" % (width - 2, k, v))
    print("mock outcomes: " + " ".join("%s:%s" % kv for kv in sorted((t["mock"]["outcomes"] or {}).items())))
    for where, ex in rep["examples"].items():
        for what, items in ex.items():
            if items:
                print("examples (%s) %s: %s" % (where, what, "; ".join(items[:5])))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cycles", type=int, default=20, help="kill -9 / restart cycles under load (default 20)")
    p.add_argument("--cycle-seconds", type=float, default=6.0,
                   help="mean seconds of load between two kills (each drawn from 0.5x..1.5x; default 6)")
    p.add_argument("--duration", type=float, help="total seconds of load instead: sets --cycle-seconds")
    p.add_argument("--rate", type=float, default=40.0, help="jobs per second over all clients (default 40)")
    p.add_argument("--clients", type=int, default=4, help="submitting threads (default 4)")
    p.add_argument("--faults", type=float, default=0.3, help="share of model calls that fail (default 0.3)")
    p.add_argument("--latency-ms", type=int, default=120, help="mean mock latency (default 120)")
    p.add_argument("--provider-timeout", default="2s", help="provider timeout (default 2s)")
    p.add_argument("--key-pool", type=int, default=300, help="distinct dedup keys (default 300)")
    p.add_argument("--drain-timeout", type=float, default=300,
                   help="seconds to wait for every job to settle after the last restart (default 300)")
    p.add_argument("--faults-in-drain", action="store_true",
                   help="keep the mock's faults on while the last jobs settle (default: the provider "
                        "recovers when the load ends)")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: random, printed)")
    p.add_argument("--quick", action="store_true", help="CI size: 3 cycles of ~4 s, rate 25")
    p.add_argument("--disk-full", dest="disk_full", action="store_true", default=None,
                   help="a disk-full phase in the middle cycle: the data dir on a tmpfs that is filled "
                        "under load, kill -9 while full, freed before the restart (needs root and "
                        "mount; default on, except with --quick)")
    p.add_argument("--no-disk-full", dest="disk_full", action="store_false")
    p.add_argument("--bin", default=None, help="the sluice binary (default $SLUICE_BIN, else build/sluice)")
    p.add_argument("--json", default=None, help="write the report as JSON to this file")
    args = p.parse_args(argv)
    if args.quick:
        args.cycles, args.cycle_seconds, args.rate = 3, 4.0, 25.0
        args.key_pool = 60
    if args.disk_full is None:
        args.disk_full = not args.quick
    if args.duration:
        args.cycle_seconds = args.duration / max(1, args.cycles)
    if args.seed is None:
        args.seed = random.randrange(1 << 31)
    args.bin = args.bin or harness.SLUICE_BIN
    if not 0 <= args.faults <= 1:
        p.error("--faults must be in [0, 1]")
    log("seed %d, %d cycles of ~%.1f s, %.0f jobs/s, faults %.2f, bin %s"
        % (args.seed, args.cycles, args.cycle_seconds, args.rate, args.faults, args.bin))
    try:
        rep = run(args)
    except (harness.StartError, harness.WaitTimeout, AssertionError) as e:
        log("the run could not be carried out: %s" % e)
        return 2
    print_table(rep)
    if args.json:
        Path(args.json).write_text(json.dumps(rep, indent=2, sort_keys=True) + "\n")
    failed = {k: v for k, v in rep["invariants"].items() if v}
    print("RESULT: %s" % ("FAIL " + json.dumps(failed) if failed else "OK (every invariant count is 0)"))
    if not failed and not harness.KEEP_TMP:
        shutil.rmtree(rep["tmp_dir"], ignore_errors=True)
    else:
        print("kept %s" % rep["tmp_dir"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
