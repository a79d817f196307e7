"""Provider faults end to end: a real `sluice serve` against a scripted `sluice mock-llm`.

What must hold (DESIGN.md "Semantics that must hold"): retryable failures (5xx, garbage, a reset
connection, 429) are retried within max_attempts, with Retry-After honoured; a non-retryable 4xx
fails at once; answers that never fit the schema end in review; deadlines expire a job instead of
processing it late (a running call is cut, a queued job never reaches the provider); a cost limit
stops the retries. The mock's own counters are the witness of what reached the provider.
"""

import time
import unittest

import harness
from harness import classify_job, get_job, get_result, submit_ok, wait_job, wait_until

# A ticket the answer engine classifies with high confidence, so a good answer ends `done`
# (not `review` through the task's confidence rule).
TICKET = "I was charged twice for the same purchase"


class FaultTest(harness.IntegrationTest):
    def start(self, script=None, worker=None, queues=None, provider_timeout="10s", **mock_options):
        """A mock (latency 20ms unless given) and a server on it; the mock's script is set
        through POST /mock/config so that the scripted outcomes start with this test's jobs."""
        mock_options.setdefault("latency", "20ms")
        self.mock = self.start_mock(**mock_options)
        providers = [{"name": "mock", "base_url": self.mock.base_url, "timeout": provider_timeout,
                      "max_concurrency": 256}]
        self.server = self.start_server(mock=self.mock, providers=providers, worker=worker, queues=queues)
        if script is not None:
            self.assertTrue(self.mock.configure({"script": script})["script"])
        return self.mock, self.server

    def outcomes(self, job_id):
        result = get_result(self.server, job_id)
        self.assertIsNotNone(result, "job %s has no result" % job_id)
        return [a["outcome"] for a in result["attempts"]], result


class RetryTest(FaultTest):
    def assert_retried_once_then_done(self, script, first_outcomes):
        mock, server = self.start(script=script)
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(done["attempt"], 2, done)
        self.assertIsNone(done["error"], done)
        outcomes, result = self.outcomes(job["id"])
        self.assertEqual(len(outcomes), 2, result["attempts"])
        self.assertIn(outcomes[0], first_outcomes, result["attempts"])
        self.assertEqual(outcomes[1], "ok", result["attempts"])
        self.assertEqual([a["n"] for a in result["attempts"]], [1, 2])
        self.assertEqual(result["output"]["category"], "double_charge", result)
        self.assertEqual(mock.stats()["requests"], 2)
        return result

    def test_500_then_ok_is_done_on_attempt_2(self):
        result = self.assert_retried_once_then_done("500,ok", ("provider_error",))
        self.assertEqual(result["attempts"][0].get("http_status"), 500, result["attempts"][0])

    def test_garbage_then_ok_is_done_on_attempt_2(self):
        # "garbage" is an unparseable body or schema-invalid content, at the mock's choice.
        self.assert_retried_once_then_done("garbage,ok", ("garbage", "schema_invalid"))

    def test_reset_then_ok_is_done_on_attempt_2(self):
        self.assert_retried_once_then_done("reset,ok", ("connection_reset",))

    def test_truncated_then_ok_is_done_on_attempt_2(self):
        # Content cut in half with finish_reason "length" is not an answer.
        self.assert_retried_once_then_done("truncated,ok", ("truncated", "schema_invalid", "garbage"))

    def test_provider_timeout_then_ok_is_done_on_attempt_2(self):
        mock, server = self.start(script="timeout,ok", provider_timeout="1s")
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual((done["status"], done["attempt"]), ("done", 2), done)
        outcomes, result = self.outcomes(job["id"])
        self.assertEqual(outcomes, ["timeout", "ok"], result["attempts"])
        self.assertEqual(mock.stats()["outcomes"]["timeout"], 1)

    def test_500_every_time_fails_after_max_attempts(self):
        mock, server = self.start(error_rate=1.0)
        job = submit_ok(server, classify_job(TICKET, max_attempts=2))
        failed = wait_job(server, job["id"], timeout=20)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["attempt"], 2, failed)
        self.assertEqual(failed["error"]["code"], "provider_error", failed)
        stats = mock.stats()
        self.assertEqual(stats["requests"], 2, stats)
        self.assertEqual(stats["outcomes"]["error"], 2, stats)
        self.assertIsNone(get_result(server, job["id"]))   # no result for a failed job

    def test_400_is_not_retried(self):
        mock, server = self.start(script="400")
        job = submit_ok(server, classify_job(TICKET, max_attempts=3))
        failed = wait_job(server, job["id"], timeout=20)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["attempt"], 1, failed)
        self.assertEqual(failed["error"]["code"], "provider_rejected", failed)
        self.assertEqual(mock.stats()["requests"], 1)

    def test_schema_invalid_every_time_goes_to_review(self):
        mock, server = self.start(script="garbage_content*3")
        job = submit_ok(server, classify_job(TICKET, max_attempts=3))
        review = wait_job(server, job["id"], timeout=20)
        self.assertEqual(review["status"], "review", review)
        self.assertEqual(review["attempt"], 3, review)
        self.assertEqual(review["error"]["code"], "schema_invalid", review)
        stats = mock.stats()
        self.assertEqual((stats["requests"], stats["outcomes"]["garbage"]), (3, 3), stats)

    def test_429_retry_after_is_honoured(self):
        # retry_base is 100ms (the harness's test timings), so only Retry-After: 1 explains a
        # second request a whole second after the first.
        mock, server = self.start(script="429,ok", retry_after=1)   # --retry-after 1
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        outcomes, result = self.outcomes(job["id"])
        self.assertEqual(outcomes, ["rate_limited", "ok"], result["attempts"])
        stats = mock.stats()
        self.assertEqual(stats["requests"], 2, stats)
        first, second = stats["arrivals"]
        self.assertGreaterEqual(second - first, 900,
                                "the retry came %d ms after a 429 with Retry-After: 1" % (second - first))


class DeadlineTest(FaultTest):
    def test_running_call_is_cut_at_the_deadline(self):
        mock, server = self.start(latency="5s")
        submitted = time.monotonic()
        job = submit_ok(server, classify_job(TICKET, deadline_in="1s"))
        # Expired well before the model's 5 s answer: the call is aborted at the deadline.
        expired = wait_job(server, job["id"], timeout=4.0)
        self.assertLess(time.monotonic() - submitted, 4.5)
        self.assertEqual(expired["status"], "expired", expired)
        self.assertEqual(expired["error"]["code"], "deadline_exceeded", expired)
        self.assertEqual(mock.stats()["requests"], 1)
        # Once the mock has given its (late) answer, the job is still expired: nothing
        # overwrote it, and no result appeared.
        wait_until(lambda: mock.stats()["in_flight"] == 0, timeout=10, message="the mock to answer")
        later = get_job(server, job["id"])
        self.assertEqual(later["status"], "expired", later)
        self.assertEqual(later["finished_at"], expired["finished_at"])
        self.assertIsNone(get_result(server, job["id"]))
        self.assertEqual(mock.stats()["requests"], 1)   # and no retry after the deadline

    def test_queued_job_expires_without_reaching_the_provider(self):
        mock, server = self.start(latency="3s", queues=[{"name": "solo", "max_concurrency": 1}])
        slow = submit_ok(server, classify_job(TICKET, queue="solo"))
        wait_until(lambda: mock.stats()["requests"] == 1, timeout=5, message="the slow call to start")
        late = submit_ok(server, classify_job("My card was blocked abroad", queue="solo", deadline_in="1s"))
        expired = wait_job(server, late["id"], timeout=10)
        self.assertEqual(expired["status"], "expired", expired)
        self.assertEqual(expired["error"]["code"], "deadline_exceeded", expired)
        self.assertIsNone(expired["started_at"], expired)
        # The slot frees when the slow job ends; the expired job must not run then either.
        done = wait_job(server, slow["id"], timeout=10)
        self.assertEqual(done["status"], "done", done)
        wait_until(lambda: mock.stats()["in_flight"] == 0, timeout=5)
        self.assertEqual(mock.stats()["requests"], 1)
        self.assertEqual(get_job(server, late["id"])["status"], "expired")


    def test_no_retry_is_scheduled_past_the_deadline(self):
        # The backoff after the 500 (2-4 s) ends after the deadline (1.5 s): the job expires at
        # once instead of waiting for a retry it could only start late.
        mock, server = self.start(script="500,ok", worker={"retry_base": "4s", "retry_max": "10s"})
        job = submit_ok(server, classify_job(TICKET, deadline_in="1500ms"))
        expired = wait_job(server, job["id"], timeout=10)
        self.assertEqual(expired["status"], "expired", expired)
        self.assertEqual(expired["error"]["code"], "deadline_exceeded", expired)
        self.assertEqual(expired["attempt"], 1, expired)
        self.assertEqual(mock.stats()["requests"], 1)


class CostLimitTest(FaultTest):
    def test_cost_limit_refuses_a_call_that_could_exceed_it(self):
        # The gateway estimates a call's cost (prompt + max_tokens at the alias's prices) before
        # sending it: with a limit below one call's estimate, no call is made at all.
        mock, server = self.start(script="garbage_content*5")
        job = submit_ok(server, classify_job(TICKET, max_attempts=5, cost_limit_usd=1e-9))
        failed = wait_job(server, job["id"], timeout=20)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["error"]["code"], "cost_limit_exceeded", failed)
        self.assertEqual(failed["cost_usd"], 0, failed)
        self.assertEqual(mock.stats()["requests"], 0)

    def test_cost_limit_stops_retries_once_spent(self):
        # Schema-invalid answers are billed (they have usage) and retried; the limit covers a
        # few of them but not all five attempts, so retries stop before max_attempts.
        mock, server = self.start(script="garbage_content*5")
        job = submit_ok(server, classify_job(TICKET, max_attempts=5, cost_limit_usd=0.0005))
        failed = wait_job(server, job["id"], timeout=30)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["error"]["code"], "cost_limit_exceeded", failed)
        self.assertGreater(failed["cost_usd"], 0, failed)
        self.assertLessEqual(failed["cost_usd"], 0.0005, failed)
        requests = mock.stats()["requests"]
        self.assertGreaterEqual(requests, 1)
        self.assertLess(requests, 5)


if __name__ == "__main__":
    unittest.main()
