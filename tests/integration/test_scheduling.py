"""Scheduling end to end: queue slots (max_concurrency, reserved), priority, run_at and retry
backoff, seen through the API and through the mock's own counters.

DESIGN.md: urgent work never waits behind a batch backlog (reserved slots) and the batch still
progresses; a queue never runs more than its max_concurrency; within a queue higher priority
runs first; a job does not start before its run_at; a job waiting for a retry says so.
"""

import unittest
import urllib.parse
from datetime import datetime

import harness
from harness import classify_job, get_job, submit_bulk, submit_ok, wait_job, wait_until

TICKET = "I was charged twice for the same purchase"


def parse_time_ms(text):
    """RFC 3339 UTC ('2026-11-29T12:00:00.123Z') -> ms since the epoch."""
    return round(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def count_jobs(server, **filters):
    """How many jobs GET /v1/jobs lists with these filters (all pages)."""
    total, after = 0, None
    while True:
        query = dict(filters, limit=1000)
        if after:
            query["after"] = after
        r = server.api.get("/v1/jobs?" + urllib.parse.urlencode(query))
        if r.status != 200:
            raise AssertionError("GET /v1/jobs answered %r" % (r,))
        total += len(r.body["data"])
        after = r.body.get("next")
        if not after or not r.body["data"]:
            return total


class QueueSlotsTest(harness.IntegrationTest):
    def test_urgent_queue_does_not_wait_behind_a_batch_backlog(self):
        mock = self.start_mock(latency="1s")
        server = self.start_server(mock=mock, worker={"concurrency": 8},
                                   queues=[{"name": "urgent", "max_concurrency": 4, "reserved": 2}])
        r = submit_bulk(server, [classify_job("%s, order %d" % (TICKET, i), queue="batch") for i in range(100)])
        self.assertEqual(r.status, 200, r)
        self.assertTrue(all("id" in j for j in r.body["jobs"]), r.body)
        # The batch has taken every slot it may (8 minus urgent's 2 reserved) before urgent work comes.
        wait_until(lambda: mock.stats()["in_flight"] >= 6, timeout=5, message="the batch to fill its slots")
        self.assertLessEqual(mock.stats()["peak_in_flight"], 6, "the batch took urgent's reserved slots")

        urgent = [submit_ok(server, classify_job("My card was stolen, block it now %d" % i, queue="urgent"))
                  for i in range(4)]
        # 4 urgent jobs on 2 reserved slots (more as batch slots free up): two latency periods,
        # plus slack. The batch backlog alone needs 100 / 6 ≈ 17 periods.
        for job in urgent:
            finished = wait_job(server, job["id"], timeout=8)
            self.assertIn(finished["status"], ("done", "review"), finished)
        batch_queued = count_jobs(server, queue="batch", status="queued")
        batch_done = count_jobs(server, queue="batch", status="done")
        self.assertGreater(batch_queued, 50, "urgent work waited behind the batch backlog")
        # ...and the batch was not starved while urgent work ran.
        self.assertGreater(batch_done + count_jobs(server, queue="batch", status="review"), 0)
        wait_until(lambda: count_jobs(server, queue="batch", status="done") > batch_done, timeout=5,
                   message="the batch to keep progressing")
        self.assertLessEqual(mock.stats()["peak_in_flight"], 8, "more calls than worker.concurrency")

    def test_worker_concurrency_caps_all_queues_together(self):
        # Two queues with work coming due at the same moment (run_in) share the node's 2 slots:
        # never more than 2 calls at once, whatever each queue's own limit.
        mock = self.start_mock(latency="500ms")
        server = self.start_server(mock=mock, worker={"concurrency": 2})
        r = submit_bulk(server, [classify_job("%s, order %d" % (TICKET, i), queue=q, run_in="1s")
                                 for i in range(4) for q in ("default", "batch")])
        self.assertEqual(r.status, 200, r)
        for job in r.body["jobs"]:
            self.assertEqual(wait_job(server, job["id"], timeout=20)["status"], "done")
        stats = mock.stats()
        self.assertEqual(stats["requests"], 8, stats)
        self.assertLessEqual(stats["peak_in_flight"], 2, "worker.concurrency 2 exceeded: %r" % stats)

    def test_reserved_slots_stay_free_when_two_queues_claim_at_once(self):
        # 4 slots, 2 reserved for urgent: default and batch together may hold only 2, also when
        # both come due at the same moment (run_in).
        mock = self.start_mock(latency="1s")
        server = self.start_server(mock=mock, worker={"concurrency": 4},
                                   queues=[{"name": "urgent", "max_concurrency": 2, "reserved": 2}])
        r = submit_bulk(server, [classify_job("%s, order %d" % (TICKET, i), queue=q, run_in="1s")
                                 for i in range(10) for q in ("default", "batch")])
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: mock.stats()["in_flight"] >= 2, timeout=5, message="the backlog to start")
        self.assertLessEqual(mock.stats()["peak_in_flight"], 2, "default and batch took urgent's reserved slots")
        urgent = [submit_ok(server, classify_job("My card was stolen, block it now %d" % i, queue="urgent"))
                  for i in range(2)]
        for job in urgent:
            self.assertIn(wait_job(server, job["id"], timeout=8)["status"], ("done", "review"))
        self.assertGreater(count_jobs(server, status="queued"), 0)
        self.assertLessEqual(mock.stats()["peak_in_flight"], 4, "worker.concurrency 4 exceeded")

    def test_queue_max_concurrency_holds(self):
        mock = self.start_mock(latency="300ms")
        server = self.start_server(mock=mock, queues=[{"name": "narrow", "max_concurrency": 3}])
        self.assertEqual(harness.request("POST", mock.url + "/mock/reset").status, 200)
        jobs = [submit_ok(server, classify_job("%s, order %d" % (TICKET, i), queue="narrow")) for i in range(12)]
        for job in jobs:
            self.assertEqual(wait_job(server, job["id"], timeout=20)["status"], "done")
        stats = mock.stats()
        self.assertEqual(stats["requests"], 12, stats)
        self.assertLessEqual(stats["peak_in_flight"], 3, stats)
        # The limit is used, not just respected: the queue ran 3 at a time.
        self.assertEqual(stats["peak_in_flight"], 3, stats)


class OrderTest(harness.IntegrationTest):
    def test_higher_priority_runs_first_within_a_queue(self):
        mock = self.start_mock(latency="300ms")
        server = self.start_server(mock=mock, worker={"concurrency": 1})
        blocker = submit_ok(server, classify_job("%s, blocker" % TICKET, priority=5))
        wait_job(server, blocker["id"], statuses=("running",), timeout=5)
        low = [submit_ok(server, classify_job("%s, low %d" % (TICKET, i), priority=1)) for i in range(4)]
        high = submit_ok(server, classify_job("%s, high" % TICKET, priority=9))
        finished = {j["id"]: wait_job(server, j["id"], timeout=20) for j in [blocker, high] + low}
        self.assertTrue(all(j["status"] == "done" for j in finished.values()), finished)
        high_start = parse_time_ms(finished[high["id"]]["started_at"])
        for job in low:
            self.assertLess(high_start, parse_time_ms(finished[job["id"]]["started_at"]),
                            "the priority 9 job started after a priority 1 job submitted before it")

    def test_run_at_holds_a_job_until_it_is_due(self):
        mock = self.start_mock(latency="20ms")
        server = self.start_server(mock=mock)
        job = submit_ok(server, classify_job(TICKET, run_in="2s"))
        self.assertEqual(job["status"], "queued", job)
        self.assertEqual(job["blocked_reason"], "scheduled", job)
        now = get_job(server, job["id"])
        self.assertEqual((now["status"], now["blocked_reason"]), ("queued", "scheduled"), now)
        done = wait_job(server, job["id"], timeout=10)
        self.assertEqual(done["status"], "done", done)
        run_at = parse_time_ms(done["run_at"])
        self.assertGreaterEqual(parse_time_ms(done["started_at"]), run_at, done)
        arrivals = mock.stats()["arrivals"]
        self.assertEqual(len(arrivals), 1)
        self.assertGreaterEqual(arrivals[0], run_at, "the model was called before run_at")

    def test_retry_backoff_is_visible_while_waiting(self):
        mock = self.start_mock(latency="20ms", script="500,ok")
        server = self.start_server(mock=mock, worker={"retry_base": "2s"})
        job = submit_ok(server, classify_job(TICKET))

        def waiting_for_retry():
            j = get_job(server, job["id"])
            return j if j["status"] == "queued" and j["attempt"] == 1 and j["blocked_reason"] else None

        waiting = wait_until(waiting_for_retry, timeout=5, message="the job to wait for its retry")
        self.assertEqual(waiting["blocked_reason"], "retry_backoff", waiting)
        self.assertIsNotNone(waiting["next_attempt_at"], waiting)
        next_attempt = parse_time_ms(waiting["next_attempt_at"])
        done = wait_job(server, job["id"], timeout=10)
        self.assertEqual((done["status"], done["attempt"]), ("done", 2), done)
        self.assertIsNone(done["blocked_reason"], done)
        arrivals = mock.stats()["arrivals"]
        self.assertEqual(len(arrivals), 2)
        self.assertGreaterEqual(arrivals[1], next_attempt, "the retry ran before next_attempt_at")


if __name__ == "__main__":
    unittest.main()
