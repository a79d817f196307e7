"""Crashes and stops: kill -9 of `sluice serve` in the middle of work and right after
acknowledged submits, and a graceful SIGTERM with calls in flight.

DESIGN.md: accepted means durable (a job is committed before its 202); at-least-once execution,
exactly-once result (a dead worker's lease is taken back and the job runs again; one result);
on SIGTERM the server drains: running calls get the grace period, the rest are released and
run again after a restart. Nothing is lost and nothing stays `running`.
"""

import threading
import time
import unittest

import harness
from harness import Client, TERMINAL, classify_job, get_result, submit_bulk, submit_ok, wait_until

TICKET = "I was charged twice for the same purchase"


def statuses(server, ids):
    """{id: job} for every id, over one keep-alive connection."""
    out = {}
    with server.client() as c:
        for job_id in ids:
            r = c.get("/v1/jobs/" + job_id)
            if r.status != 200:
                raise AssertionError("GET /v1/jobs/%s answered %r" % (job_id, r))
            out[job_id] = r.body
    return out


def wait_all(server, ids, wanted=TERMINAL, timeout=60):
    """Waits until every job's status is in `wanted`; returns {id: job}."""
    pending = list(ids)
    seen = {}

    def all_there():
        nonlocal pending
        now = statuses(server, pending)
        seen.update(now)
        pending = [i for i, j in now.items() if j["status"] not in wanted]
        return not pending

    wait_until(all_there, timeout=timeout,
               message=lambda: "%d jobs to finish (e.g. %r)" % (len(pending), [seen[i]["status"] for i in pending[:5]]))
    return seen


def count_status(server, status):
    r = server.api.get("/v1/jobs?status=%s&limit=1000" % status)
    if r.status != 200:
        raise AssertionError("GET /v1/jobs?status=%s answered %r" % (status, r))
    return len(r.body["data"])


def running_jobs(server):
    r = server.api.get("/v1/jobs?status=running&limit=1000")
    if r.status != 200:
        raise AssertionError("GET /v1/jobs?status=running answered %r" % (r,))
    return r.body["data"]


class KillDuringProcessingTest(harness.IntegrationTest):
    def test_kill9_while_running_then_every_job_has_exactly_one_result(self):
        mock = self.start_mock(latency="500ms", jitter="300ms")
        # 64 at a time: the crash finds some jobs done, many running and the rest queued.
        server = self.start_server(mock=mock, worker={"concurrency": 64, "lease": "3s", "heartbeat": "500ms"})
        r = submit_bulk(server, [classify_job("%s, order %d" % (TICKET, i)) for i in range(200)])
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]
        self.assertEqual(len(set(ids)), 200, r.body)

        # Crash with many calls in flight, once some answers have been stored.
        wait_until(lambda: mock.stats()["in_flight"] >= 32 and count_status(server, "done") >= 20, timeout=15,
                   message="some jobs done and many calls in flight")
        self.assertEqual(server.kill9(), -9)
        server.restart()

        jobs = wait_all(server, ids, timeout=40)
        self.assertEqual({j["status"] for j in jobs.values()}, {"done"},
                         [(i, j["status"], j["error"]) for i, j in jobs.items() if j["status"] != "done"][:5])
        self.assertEqual(running_jobs(server), [])
        with server.client() as c:
            for job_id in ids:
                res = c.get("/v1/jobs/%s/result" % job_id)
                self.assertEqual(res.status, 200, (job_id, res))
                self.assertEqual(res.body["job_id"], job_id)
                oks = [a for a in res.body["attempts"] if a["outcome"] == "ok"]
                self.assertEqual(len(oks), 1, (job_id, res.body["attempts"]))
        self.assertGreaterEqual(mock.stats()["outcomes"]["ok"], 200)


class KillAfterSubmitsTest(harness.IntegrationTest):
    def test_kill9_after_acknowledged_submits_loses_nothing(self):
        # Slow model: the jobs stay around; what matters here is the submit path.
        mock = self.start_mock(latency="10s")
        server = self.start_server(mock=mock, worker={"grace": "500ms"})
        acked = []                   # ids whose 202 (or bulk 200) arrived
        lock = threading.Lock()
        stop = threading.Event()
        counts = {"single": 0, "bulk": 0}
        errors = []

        def single_submitter(n):
            with Client(server.url, timeout=10) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = c.post("/v1/jobs", json=classify_job("%s, thread %d #%d" % (TICKET, n, i)))
                    except OSError:
                        return           # the server is gone: this one was never acknowledged
                    if r.status != 202:
                        errors.append(r)
                        return
                    with lock:
                        acked.append(r.body["id"])
                        counts["single"] += 1

        def bulk_submitter():
            with Client(server.url, timeout=30) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    body = {"jobs": [classify_job("%s, bulk %d #%d" % (TICKET, i, k)) for k in range(200)]}
                    try:
                        r = c.post("/v1/jobs/bulk", json=body)
                    except OSError:
                        return
                    if r.status != 200 or not all("id" in j for j in r.body["jobs"]):
                        errors.append(r)
                        return
                    with lock:
                        acked.extend(j["id"] for j in r.body["jobs"])
                        counts["bulk"] += 1

        threads = [threading.Thread(target=single_submitter, args=(n,), daemon=True) for n in range(6)]
        threads.append(threading.Thread(target=bulk_submitter, daemon=True))
        for t in threads:
            t.start()
        try:
            wait_until(lambda: errors or (counts["single"] >= 500 and counts["bulk"] >= 3), timeout=30,
                       message=lambda: "submits to be acknowledged (%r)" % counts)
            # The crash comes while the submitters are still going.
            self.assertEqual(server.kill9(), -9)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)
        self.assertEqual(errors, [])
        with lock:
            acknowledged = list(acked)
        self.assertGreaterEqual(len(acknowledged), 500 + 3 * 200)
        self.assertEqual(len(set(acknowledged)), len(acknowledged), "one id given to two jobs")

        server.restart()
        missing = []
        with server.client() as c:
            for job_id in acknowledged:
                r = c.get("/v1/jobs/" + job_id)
                if r.status != 200:
                    missing.append((job_id, r.status))
        self.assertEqual(missing, [], "%d of %d acknowledged jobs lost" % (len(missing), len(acknowledged)))


class GracefulStopTest(harness.IntegrationTest):
    def test_sigterm_releases_slow_calls_and_they_run_after_restart(self):
        grace_s = 2
        mock = self.start_mock(latency="30s")
        server = self.start_server(mock=mock, worker={"grace": "%ds" % grace_s})
        ids = [submit_ok(server, classify_job("%s, order %d" % (TICKET, i)))["id"] for i in range(10)]
        wait_until(lambda: mock.stats()["in_flight"] == 10, timeout=10, message="10 calls in flight")
        self.assertEqual({j["status"] for j in statuses(server, ids).values()}, {"running"})

        started = time.monotonic()
        code = server.stop(timeout=grace_s + 20)
        elapsed = time.monotonic() - started
        self.assertEqual(code, 0, "sluice serve exited with %r on SIGTERM" % code)
        self.assertLess(elapsed, grace_s + 8, "the drain took %.1f s with a grace of %d s" % (elapsed, grace_s))

        mock.configure({"latency_ms": 50})
        server.restart()
        jobs = wait_all(server, ids, timeout=30)
        self.assertEqual({j["status"] for j in jobs.values()}, {"done"}, jobs)
        self.assertEqual(running_jobs(server), [])
        for job_id in ids:
            self.assertIsNotNone(get_result(server, job_id))

    def test_sigterm_lets_calls_within_grace_finish(self):
        mock = self.start_mock(latency="1s")
        server = self.start_server(mock=mock, worker={"grace": "10s"})
        ids = [submit_ok(server, classify_job("%s, order %d" % (TICKET, i)))["id"] for i in range(10)]
        wait_until(lambda: mock.stats()["in_flight"] == 10, timeout=10, message="10 calls in flight")
        self.assertEqual(server.stop(timeout=30), 0)

        # They finished during the drain: done after the restart, and not called again.
        server.restart()
        jobs = statuses(server, ids)
        self.assertEqual({j["status"] for j in jobs.values()}, {"done"},
                         {i: j["status"] for i, j in jobs.items()})
        self.assertEqual({j["attempt"] for j in jobs.values()}, {1})
        self.assertEqual(mock.stats()["requests"], 10)


if __name__ == "__main__":
    unittest.main()
