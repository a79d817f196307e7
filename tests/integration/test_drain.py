"""A node claims only what its providers can start, and a drain starts no provider call.

What must hold (DESIGN.md "Semantics"; scheduler.h start_capacity, gateway.h stop_starting):
with a provider's max_concurrency at 20 and 200 queued 2 s jobs, the node runs about 20 jobs at a
time and the rest stay `queued` (blocked_reason queue_full), not `running` while they wait for a
provider slot inside the gateway; on SIGTERM no provider call starts any more (the calls already
at the provider finish in the grace period), every attempt not yet at the provider goes back to
the queue with its attempt not counted, and nothing is lost: a restart finishes every job.
"""

import time
import unittest

import harness
from harness import classify_job, submit_bulk, wait_until

TICKET = "I was charged twice for the same purchase"
PROVIDER_SLOTS = 20
JOBS = 200


def jobs_with(server, status):
    r = server.api.get("/v1/jobs?status=%s&limit=1000" % status)
    if r.status != 200:
        raise AssertionError("GET /v1/jobs?status=%s answered %r" % (status, r))
    return r.body["data"]


class DrainTest(harness.IntegrationTest):
    def start(self, mock):
        return self.start_server(
            mock=mock,
            providers=[{"name": "mock", "base_url": mock.base_url, "timeout": "10s",
                        "max_concurrency": PROVIDER_SLOTS}],
            worker={"grace": "6s"})

    def test_claims_only_what_the_provider_can_start_and_a_drain_starts_no_call(self):
        mock = self.start_mock(latency="2s")
        server = self.start(mock)
        r = submit_bulk(server, [classify_job(TICKET, object_id="t-%d" % i) for i in range(JOBS)])
        self.assertIn(r.status, (200, 202), r)
        ids = {j["id"] for j in r.body["jobs"]}
        self.assertEqual(len(ids), JOBS)

        # While the first two rounds of calls run: about 20 running, the rest queued.
        most_running, blocked = 0, set()
        wait_until(lambda: mock.stats()["requests"] >= PROVIDER_SLOTS, timeout=20)
        until = time.monotonic() + 3.0
        while time.monotonic() < until:
            running = jobs_with(server, "running")
            most_running = max(most_running, len(running))
            queued = jobs_with(server, "queued")
            blocked.update(j["blocked_reason"] for j in queued)
            time.sleep(0.1)
        self.assertGreater(most_running, PROVIDER_SLOTS // 2, "the provider was never kept busy")
        self.assertLessEqual(most_running, PROVIDER_SLOTS + 10,
                             "jobs waiting for a provider slot show `running`")
        self.assertIn("queue_full", blocked)
        self.assertGreater(len(jobs_with(server, "queued")), JOBS // 2)

        # SIGTERM: the calls at the provider may finish, no new one starts.
        signaled_ms = time.time() * 1000
        self.assertEqual(server.stop(), 0)
        stats = mock.stats()
        started_after = [t for t in stats["arrivals"] if t > signaled_ms + 50]
        self.assertEqual(started_after, [], "%d provider calls started after SIGTERM" % len(started_after))
        self.assertLessEqual(stats["peak_in_flight"], PROVIDER_SLOTS)

        # Nothing lost, nothing left running; a restart finishes every job, each once.
        server.start()
        statuses = {}
        for status in ("queued", "running", "done"):
            for j in jobs_with(server, status):
                statuses[j["id"]] = status
        self.assertEqual(set(statuses), ids, "jobs were lost over the stop")
        done_before = sum(1 for s in statuses.values() if s == "done")
        self.assertGreater(done_before, 0)
        self.assertLess(done_before, JOBS)

        wait_until(lambda: len(jobs_with(server, "done")) == JOBS, timeout=120, interval=0.5,
                   message="not every job finished after the restart")
        done = jobs_with(server, "done")
        self.assertEqual({j["id"] for j in done}, ids)
        self.assertEqual({j["attempt"] for j in done}, {1}, "a handed-back attempt was counted")
        self.assertEqual(mock.stats()["requests"], JOBS, "a job called the provider twice")


if __name__ == "__main__":
    unittest.main()
