"""The model gateway end to end: jobs through real `sluice serve` against one or two scripted
`sluice mock-llm` providers (or a dead port), checked on the job, its result record, its attempt
records and the mocks' own counters.

What must hold (gateway.h, API.md "Configuration"): a call walks its alias's chain [alias,
fallback...]; a retryable failure moves on to the next alias within the same job attempt, and
every provider call of the walk is recorded ("fallback": true on all but the last); a job with
"fallback": false uses its alias alone; an open circuit is skipped at once (not an attempt, and
the provider hears nothing) until the cool-down lets one probe through, whose success closes it;
a job whose every alias is skipped waits queued with blocked_reason circuit_open or rate_limited,
not running and not an attempt;
a provider's rpm, tpm and max_concurrency are never exceeded (waiting is not an attempt); the
provider timeout cuts a slow call; cost is usage times the alias's prices, summed over every
call; a cost limit stops the retries; the built-in `local` provider is the last resort of a
chain; a queue's preferred model routes its jobs.
"""

import math
import unittest

import harness
from harness import classify_job, free_port, get_job, get_result, submit_bulk, submit_ok, wait_job, wait_until

# A ticket the answer engine classifies with high confidence, so a good answer ends `done`.
TICKET = "I was charged twice for the same purchase"

# The aliases of these tests. Prices as in API.md's example.
FAST = {"alias": "fast", "id": "gpt-4o-mini", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60}
STRONG = {"alias": "strong", "id": "gpt-4o", "input_usd_per_mtok": 2.50, "output_usd_per_mtok": 10.00}
CHEAP = {"alias": "cheap", "id": "gpt-4o-nano", "input_usd_per_mtok": 0.05, "output_usd_per_mtok": 0.20}
PRICES = {m["alias"]: (m["input_usd_per_mtok"], m["output_usd_per_mtok"]) for m in (FAST, STRONG, CHEAP)}
PRICES["local"] = (0.0, 0.0)


def model(base, provider, **extra):
    m = dict(base, provider=provider)
    m.update(extra)
    return m


def provider(name, base_url, **extra):
    p = {"name": name, "base_url": base_url, "timeout": "5s", "max_concurrency": 256}
    p.update(extra)
    return p


def dead_url():
    """A provider base_url at a port nobody listens on: every call is a connect error."""
    return "http://127.0.0.1:%d/v1" % free_port()


def call_cost(alias, usage):
    """provider_call.h CallCost: (prompt_tokens*input + completion_tokens*output) USD per Mtok is
    nano-USD per thousandth of a token; rounded once to a whole nano-USD (half away from zero)."""
    price_in, price_out = PRICES[alias]
    nanos = (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) * 1e3
    return math.floor(nanos + 0.5) / 1e9


def chat_job(content, alias="fast", **fields):
    """A `chat` job: a raw chat-completions body, no schema (any non-empty answer is done)."""
    request = {"model": alias, "messages": [{"role": "user", "content": content}]}
    request.update(fields.pop("request_extra", {}))
    body = {"type": "chat", "request": request}
    body.update(fields)
    return body


class GatewayTest(harness.IntegrationTest):
    def result_of(self, server, job_id):
        result = get_result(server, job_id)
        self.assertIsNotNone(result, "job %s has no result" % job_id)
        return result

    def stats_model(self, server, alias):
        r = server.api.get("/v1/stats")
        self.assertEqual(r.status, 200, r)
        for m in r.body["models"]:
            if m["model_alias"] == alias:
                return m
        self.fail("GET /v1/stats lists no model %s: %r" % (alias, r.body["models"]))

    def circuit_metric(self, server, alias):
        return harness.metric_sum(server.metrics(), "sluice_circuit_open", alias=alias)

    def run_all(self, server, bodies, timeout=30):
        """Submits the jobs in one bulk call; returns them finished, in input order."""
        r = submit_bulk(server, bodies)
        self.assertEqual(r.status, 200, r)
        ids = [j.get("id") for j in r.body["jobs"]]
        self.assertTrue(all(ids), r.body)
        return [wait_job(server, i, timeout=timeout) for i in ids]

    def primary_and_backup(self, primary_url=None, primary_extra=None, mock_latency="20ms", queues=None,
                           worker=None):
        """fast on provider "primary" (a mock, or `primary_url`) falling back to strong on "backup"
        (a mock). Returns (primary mock or None, backup mock, server)."""
        primary_mock = None
        if primary_url is None:
            primary_mock = self.start_mock(latency=mock_latency)
            primary_url = primary_mock.base_url
        backup = self.start_mock(latency="20ms")
        providers = [provider("primary", primary_url, **(primary_extra or {})), provider("backup", backup.base_url)]
        models = [model(FAST, "primary", fallback=["strong"]), model(STRONG, "backup")]
        server = self.start_server(providers=providers, models=models, queues=queues, worker=worker)
        return primary_mock, backup, server


class FallbackTest(GatewayTest):
    def test_dead_primary_falls_back_within_one_attempt(self):
        _, backup, server = self.primary_and_backup(primary_url=dead_url())
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(done["attempt"], 1, "the fallback is part of the same attempt: %r" % done)
        result = self.result_of(server, job["id"])
        self.assertEqual((result["model_alias"], result["provider"], result["model"]),
                         ("strong", "backup", "gpt-4o"), result)
        self.assertEqual(result["output"]["category"], "double_charge", result)
        attempts = result["attempts"]
        self.assertEqual([(a["model_alias"], a["provider"], a["outcome"]) for a in attempts],
                         [("fast", "primary", "connect_error"), ("strong", "backup", "ok")], attempts)
        self.assertEqual([a["n"] for a in attempts], [1, 1], attempts)
        self.assertIs(attempts[0].get("fallback"), True, attempts[0])
        self.assertNotIn("fallback", attempts[1], "only calls the walk went on from are marked")
        self.assertEqual(attempts[0]["cost_usd"], 0.0, attempts[0])
        # The answer's usage is the backup's, and so is the whole cost.
        self.assertEqual(result["usage"], attempts[1]["usage"], result)
        self.assertEqual(result["cost_usd"], call_cost("strong", attempts[1]["usage"]), result)
        self.assertEqual(backup.stats()["requests"], 1)

    def test_fallback_false_keeps_the_job_on_its_own_alias(self):
        _, backup, server = self.primary_and_backup(primary_url=dead_url())
        pinned = submit_ok(server, classify_job(TICKET, fallback=False, max_attempts=2))
        failed = wait_job(server, pinned["id"], timeout=20)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertIs(failed.get("fallback"), False, failed)
        self.assertEqual(failed["attempt"], 2, "retried on the primary, not moved along the chain: %r" % failed)
        self.assertEqual((failed["error"] or {}).get("code"), "connect_error", failed)
        self.assertEqual(backup.stats()["requests"], 0, "a job with fallback false reached the fallback")

        # The same job with the chain allowed is answered by the fallback: the chain is there.
        control = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, control["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(self.result_of(server, control["id"])["model_alias"], "strong")
        self.assertEqual(backup.stats()["requests"], 1)

    def test_provider_timeout_cuts_the_call_and_the_fallback_answers(self):
        slow, backup, server = self.primary_and_backup(primary_extra={"timeout": "300ms"}, mock_latency="2s")
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual((done["status"], done["attempt"]), ("done", 1), done)
        attempts = self.result_of(server, job["id"])["attempts"]
        self.assertEqual([(a["model_alias"], a["outcome"]) for a in attempts],
                         [("fast", "timeout"), ("strong", "ok")], attempts)
        self.assertIs(attempts[0].get("fallback"), True, attempts[0])
        self.assertGreaterEqual(attempts[0]["ms"], 250, "a timeout before the provider timeout: %r" % attempts[0])
        self.assertEqual(slow.stats()["requests"], 1)
        self.assertEqual(backup.stats()["requests"], 1)

    def test_builtin_local_ends_a_chain_as_in_api_md(self):
        # API.md's own example: fallback = ["strong", "local"] with no [[model]] named local
        # ("The built-in provider `local` is always available").
        down = dead_url()
        providers = [provider("primary", down), provider("secondary", down)]
        models = [model(FAST, "primary", fallback=["strong", "local"]), model(STRONG, "secondary")]
        try:
            server = self.start_server(providers=providers, models=models)
        except harness.StartError as e:
            refused = str(e)
        else:
            refused = None
        self.assertIsNone(refused, "the server refused a chain ending in the built-in local alias")
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual((done["status"], done["attempt"]), ("done", 1), done)
        result = self.result_of(server, job["id"])
        self.assertEqual((result["model_alias"], result["provider"]), ("local", "local"), result)
        self.assertEqual([(a["model_alias"], a["outcome"], a.get("fallback")) for a in result["attempts"]],
                         [("fast", "connect_error", True), ("strong", "connect_error", True),
                          ("local", "ok", None)], result["attempts"])
        self.assertEqual(result["output"]["category"], "double_charge", result)

    def test_a_local_provider_alias_answers_when_every_provider_is_down(self):
        providers = [provider("primary", dead_url())]
        models = [model(STRONG, "primary", fallback=["offline"]),
                  {"alias": "offline", "provider": "local", "id": "sluice-local"}]
        server = self.start_server(providers=providers, models=models)
        job = submit_ok(server, classify_job(TICKET, model="strong"))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual((done["status"], done["attempt"]), ("done", 1), done)
        result = self.result_of(server, job["id"])
        self.assertEqual((result["model_alias"], result["provider"]), ("offline", "local"), result)
        self.assertEqual([(a["model_alias"], a["outcome"]) for a in result["attempts"]],
                         [("strong", "connect_error"), ("offline", "ok")], result["attempts"])
        self.assertEqual(result["cost_usd"], 0.0, result)
        if "degraded" in result:   # README: marked when local stood in for another alias
            self.assertIs(result["degraded"], True, result)


class CircuitTest(GatewayTest):
    def test_circuit_opens_after_5_failures_skips_then_a_probe_closes_it(self):
        primary, backup, server = self.primary_and_backup(primary_extra={"circuit_cool_down": "4s"})
        self.assertTrue(primary.configure({"script": "500*5"})["script"])

        def one_job():
            job = submit_ok(server, classify_job(TICKET))
            done = wait_job(server, job["id"], timeout=20)
            self.assertEqual((done["status"], done["attempt"]), ("done", 1), done)
            return self.result_of(server, job["id"])

        # Five jobs, one at a time: each hears a 500 from the primary and is answered by the backup.
        for i in range(5):
            self.assertEqual(self.stats_model(server, "fast")["circuit"], "closed", "opened after %d failures" % i)
            result = one_job()
            self.assertEqual([(a["model_alias"], a["outcome"]) for a in result["attempts"]],
                             [("fast", "provider_error"), ("strong", "ok")], result["attempts"])
        self.assertEqual(primary.stats()["requests"], 5)
        self.assertEqual(self.stats_model(server, "fast")["circuit"], "open")
        self.assertEqual(self.circuit_metric(server, "fast"), 1)
        self.assertEqual(self.circuit_metric(server, "strong"), 0)

        # While open: the primary hears nothing, and skipping it is not a call.
        for _ in range(3):
            result = one_job()
            self.assertEqual(result["model_alias"], "strong", result)
            self.assertEqual([(a["model_alias"], a["outcome"]) for a in result["attempts"]],
                             [("strong", "ok")], result["attempts"])
            self.assertEqual(result["attempts"][-1].get("skipped"),
                             [{"model_alias": "fast", "reason": "circuit_open"}], result["attempts"])
        self.assertEqual(primary.stats()["requests"], 5, "a call went to a provider whose circuit is open")

        # After the cool-down one probe goes to the primary (its script is used up: 200) and
        # its success closes the circuit.
        wait_until(lambda: self.stats_model(server, "fast")["circuit"] == "half_open", timeout=15,
                   message="the circuit to turn half-open after the cool-down")
        result = one_job()
        self.assertEqual((result["model_alias"], result["provider"]), ("fast", "primary"), result)
        self.assertEqual([(a["model_alias"], a["outcome"]) for a in result["attempts"]],
                         [("fast", "ok")], result["attempts"])
        self.assertEqual(primary.stats()["requests"], 6)
        self.assertEqual(self.stats_model(server, "fast")["circuit"], "closed")
        self.assertEqual(self.circuit_metric(server, "fast"), 0)
        self.assertEqual(backup.stats()["requests"], 8)


    def test_a_job_behind_an_open_circuit_waits_queued_blocked_and_is_no_attempt(self):
        mock = self.start_mock(latency="10ms")
        self.assertTrue(mock.configure({"script": "500"})["script"])
        # A cool-down long enough that a loaded machine still sees the second job held in it.
        providers = [provider("mock", mock.base_url, circuit_failures=1, circuit_window=0,
                              circuit_cool_down="8s")]
        server = self.start_server(providers=providers, models=[model(FAST, "mock")],
                                   worker={"retry_base": "30s", "retry_max": "30s"})
        failing = submit_ok(server, chat_job("Where is my refund?", max_attempts=3))
        wait_until(lambda: (lambda j: j["status"] == "queued" and j["attempt"] == 1)(get_job(server, failing["id"])),
                   timeout=15, message="the first job's failed attempt, which opens the circuit")

        held = submit_ok(server, chat_job("Is my card blocked?", max_attempts=3))
        job = wait_until(lambda: (lambda j: j if j.get("blocked_reason") == "circuit_open" else None)(
            get_job(server, held["id"])), timeout=15, message="the second job to show blocked_reason circuit_open")
        self.assertEqual((job["status"], job["attempt"]), ("queued", 0), job)
        self.assertEqual(mock.stats()["requests"], 1, "a call went to a provider whose circuit is open")

        # After the cool-down the probe succeeds (the mock's script is used up) and the held job
        # runs with its first attempt.
        done = wait_job(server, held["id"], timeout=30)
        self.assertEqual((done["status"], done["attempt"]), ("done", 1), done)
        self.assertEqual(len(self.result_of(server, held["id"])["attempts"]), 1)

class LimitsTest(GatewayTest):
    SLACK_MS = 200  # the first call's own way to the mock; the bound itself is exact

    def one_provider(self, mock, **limits):
        providers = [provider("mock", mock.base_url, **limits)]
        return self.start_server(providers=providers, models=[model(FAST, "mock"), model(STRONG, "mock")])

    def arrivals(self, mock, count):
        stats = mock.stats()
        self.assertEqual(stats["requests"], count, "calls the mock saw")
        times = sorted(stats["arrivals"])
        self.assertEqual(len(times), count)
        return [t - times[0] for t in times]

    def test_rpm_limit_spaces_calls_after_the_burst(self):
        # rpm 60: a full bucket of 60 calls at once, then one a second (rate_limiter.h). So call k
        # (0-based) cannot start before (k + 1 - 60) s after the first.
        rpm, jobs = 60, 63
        mock = self.start_mock(latency="10ms")
        server = self.one_provider(mock, rpm=rpm)
        done = self.run_all(server, [chat_job("Where is my refund %d?" % i) for i in range(jobs)])
        self.assertEqual([d["status"] for d in done], ["done"] * jobs)
        self.assertEqual({d["attempt"] for d in done}, {1}, "waiting for the rate limit is not an attempt")
        offsets = self.arrivals(mock, jobs)
        for k in range(rpm, jobs):
            earliest = (k + 1 - rpm) * 60000 // rpm
            self.assertGreaterEqual(offsets[k], earliest - self.SLACK_MS,
                                    "call %d of %d arrived %d ms after the first; rpm %d allows it at %d ms"
                                    % (k + 1, jobs, offsets[k], rpm, earliest))

    def test_a_job_a_rate_limit_would_hold_long_waits_queued_not_running(self):
        # rpm 12: a burst of 12, then one call every 5 s. The 13th and 14th jobs would wait
        # seconds for a token: they wait queued (blocked rate_limited), not running.
        rpm, jobs = 12, 14
        mock = self.start_mock(latency="10ms")
        server = self.one_provider(mock, rpm=rpm)
        r = submit_bulk(server, [chat_job("Where is my refund %d?" % i) for i in range(jobs)])
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]
        wait_until(lambda: mock.stats()["requests"] == rpm, timeout=15, message="the burst's calls")

        def held():
            found = [get_job(server, i) for i in ids]
            found = [j for j in found if j.get("blocked_reason") == "rate_limited"]
            return found or None
        waiting = wait_until(held, timeout=15, message="a job blocked by the rate limit")
        for job in waiting:
            self.assertEqual(job["status"], "queued", job)
        done = [wait_job(server, i, timeout=40) for i in ids]
        self.assertEqual([d["status"] for d in done], ["done"] * jobs)
        self.assertEqual({d["attempt"] for d in done}, {1}, "waiting for the rate limit is not an attempt")
        self.assertEqual(mock.stats()["requests"], jobs)

    def test_tpm_limit_holds_token_use_to_the_budget(self):
        # Each call reserves its estimate (prompt + max_tokens) and settles for the reported usage.
        # At any call's start, the tokens of the calls before it plus its own can have come only
        # from the full bucket (tpm) and the refill since the first call (tpm per minute):
        #   (k + 1) * min_usage <= tpm + tpm * t_k / 60000.
        # A 400-character prompt is ~100 tokens, max_tokens 10 caps the answer: ~110 a call, so
        # tpm 6600 is a burst of ~60 calls and then about one a second.
        tpm, jobs = 6600, 63
        text = ("Please check why my card payment failed at the shop today. " * 10)[:400]
        mock = self.start_mock(latency="10ms")
        server = self.one_provider(mock, tpm=tpm)
        done = self.run_all(server, [chat_job(text, request_extra={"max_tokens": 10})
                                     for i in range(jobs)])
        self.assertEqual([d["status"] for d in done], ["done"] * jobs)
        self.assertEqual({d["attempt"] for d in done}, {1}, "waiting for the rate limit is not an attempt")
        usage = min(self.result_of(server, d["id"])["usage"]["total_tokens"] for d in done)
        self.assertGreater(usage, 0)
        offsets = self.arrivals(mock, jobs)
        per_ms = tpm / 60000.0
        bounds = [((k + 1) * usage - tpm) / per_ms for k in range(jobs)]
        self.assertGreaterEqual(bounds[-1], 1000, "the parameters no longer exercise the limit (usage %d)" % usage)
        for k in range(jobs):
            self.assertGreaterEqual(offsets[k], bounds[k] - self.SLACK_MS,
                                    "call %d arrived %d ms after the first; %d tokens a call at tpm %d allow "
                                    "it at %.0f ms" % (k + 1, offsets[k], usage, tpm, bounds[k]))

    def test_max_concurrency_is_never_exceeded(self):
        mock = self.start_mock(latency="300ms")
        server = self.one_provider(mock, max_concurrency=3)
        done = self.run_all(server, [chat_job("Is my card blocked? %d" % i) for i in range(20)])
        self.assertEqual([d["status"] for d in done], ["done"] * 20)
        self.assertEqual({d["attempt"] for d in done}, {1}, "waiting for a slot is not an attempt")
        stats = mock.stats()
        self.assertEqual(stats["requests"], 20)
        self.assertLessEqual(stats["peak_in_flight"], 3, "the provider's max_concurrency was exceeded")
        self.assertGreater(stats["peak_in_flight"], 1, "calls never overlapped: the test proves nothing")


class CostTest(GatewayTest):
    def test_cost_is_usage_times_prices_summed_over_every_call(self):
        # Attempt 1: fast answers schema-invalid content (billed at fast's prices), retry.
        # Attempt 2: fast fails with a 500 (no usage), the walk falls back to strong (billed).
        primary, backup, server = self.primary_and_backup()
        self.assertTrue(primary.configure({"script": "garbage_content,500"})["script"])
        job = submit_ok(server, classify_job(TICKET))
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual((done["status"], done["attempt"]), ("done", 2), done)
        result = self.result_of(server, job["id"])
        attempts = result["attempts"]
        self.assertEqual([(a["n"], a["model_alias"], a["outcome"]) for a in attempts],
                         [(1, "fast", "schema_invalid"), (2, "fast", "provider_error"), (2, "strong", "ok")],
                         attempts)
        for a in attempts:
            self.assertEqual(a["cost_usd"], call_cost(a["model_alias"], a["usage"]), a)
        self.assertGreater(attempts[0]["usage"]["prompt_tokens"], 0, "the invalid answer was billed")
        self.assertEqual(attempts[1]["cost_usd"], 0.0)
        expected = call_cost("fast", attempts[0]["usage"]) + call_cost("strong", attempts[2]["usage"])
        self.assertEqual(result["cost_usd"], expected, result)
        self.assertEqual(get_job(server, job["id"])["cost_usd"], expected)
        self.assertEqual(result["usage"], attempts[2]["usage"], "the result's usage is the answer's")

    def test_cost_limit_stops_the_retries(self):
        # Every answer is schema-invalid; each billed attempt brings the next estimate closer to
        # the limit, and the gateway makes no call that could go over it.
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock, models=[model(FAST, "mock"), model(STRONG, "mock")],
                                   worker={"retry_max": "300ms"})
        self.assertTrue(mock.configure({"script": "garbage_content*20"})["script"])
        limit = 0.01
        job = submit_ok(server, classify_job(TICKET, model="strong", max_attempts=20, cost_limit_usd=limit))
        failed = wait_job(server, job["id"], timeout=30)
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual((failed["error"] or {}).get("code"), "cost_limit_exceeded", failed)
        calls = mock.stats()["requests"]
        self.assertGreaterEqual(calls, 1)
        self.assertLess(calls, 20, "the retries went on until max_attempts")
        self.assertLessEqual(failed["cost_usd"], limit, "the job spent more than its cost limit")
        self.assertGreater(failed["cost_usd"], 0)


class QueueModelTest(GatewayTest):
    def test_a_queue_preferred_model_routes_its_jobs(self):
        mock = self.start_mock(latency="10ms")
        models = [model(FAST, "mock"), model(STRONG, "mock"), model(CHEAP, "mock")]
        server = self.start_server(mock=mock, models=models,
                                   queues=[{"name": "bulkq", "max_concurrency": 8, "model": "cheap"}])
        queued = submit_ok(server, classify_job(TICKET, queue="bulkq"))
        routed = submit_ok(server, classify_job(TICKET))                           # the task's route: fast
        pinned = submit_ok(server, classify_job(TICKET, queue="bulkq", model="strong"))  # a pin wins
        want = {queued["id"]: ("cheap", "gpt-4o-nano"), routed["id"]: ("fast", "gpt-4o-mini"),
                pinned["id"]: ("strong", "gpt-4o")}
        for job_id, (alias, model_id) in want.items():
            done = wait_job(server, job_id, timeout=20)
            self.assertEqual(done["status"], "done", done)
            result = self.result_of(server, job_id)
            self.assertEqual((result["model_alias"], result["model"]), (alias, model_id), result)
            self.assertEqual(result["cost_usd"], call_cost(alias, result["usage"]), result)


if __name__ == "__main__":
    unittest.main()
