"""The synchronous fast path, POST /v1/chat/completions, end to end against `sluice mock-llm`.

What must hold (API.md "Synchronous fast path", src/api/chat_routes.cc): the answer is an
OpenAI chat.completion (or, with "stream": true, chat.completion.chunk Server-Sent Events ending
in "data: [DONE]", with a usage chunk when stream_options.include_usage asks for one), carrying
X-Sluice-Overhead-Ms and a "sluice" extension (alias, provider, cost, every provider call); it
goes through the same gateway as jobs (fallback when the primary is down, per-alias stats); an
input over server.sync_max_input_tokens answers 413 `use_async`; an unknown model or a malformed
body answers 400, never a 5xx, and reaches no provider.
"""

import http.client
import json
import math
import time
import unittest

import harness
from harness import free_port, request, submit_ok, wait_job

FAST = {"alias": "fast", "id": "gpt-4o-mini", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.60}
STRONG = {"alias": "strong", "id": "gpt-4o", "input_usd_per_mtok": 2.50, "output_usd_per_mtok": 10.00}
PRICES = {m["alias"]: (m["input_usd_per_mtok"], m["output_usd_per_mtok"]) for m in (FAST, STRONG)}

QUESTION = ("My card was declined at the supermarket this morning. "
            "I have enough money on the account. What should I do?")


def messages(text=QUESTION):
    return [{"role": "system", "content": "You help bank customers."}, {"role": "user", "content": text}]


def call_cost(alias, usage):
    """provider_call.h CallCost: (prompt_tokens*input + completion_tokens*output) USD per Mtok is
    nano-USD per thousandth of a token; rounded once to a whole nano-USD (half away from zero)."""
    price_in, price_out = PRICES[alias]
    nanos = (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) * 1e3
    return math.floor(nanos + 0.5) / 1e9


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def read_sse(server, body, timeout=20.0):
    """POSTs `body` to the server's /v1/chat/completions and reads the answer as Server-Sent
    Events, line by line as it arrives. Returns (status, headers, [data payloads], raw lines)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        conn.request("POST", "/v1/chat/completions", body=json.dumps(body).encode(),
                     headers={"Content-Type": "application/json", "Accept": "text/event-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            return resp.status, resp.headers, [], [resp.read().decode("utf-8", "replace")]
        payloads, lines, event = [], [], []
        while True:
            raw = resp.readline()
            if not raw:
                break
            line = raw.decode("utf-8").rstrip("\r\n")
            lines.append(line)
            if line == "":           # the end of one event
                if event:
                    payloads.append("\n".join(event))
                    event = []
            elif line.startswith(":"):  # a comment (keep-alive)
                continue
            elif line.startswith("data:"):
                value = line[len("data:"):]
                event.append(value[1:] if value.startswith(" ") else value)   # one optional space
            else:
                raise AssertionError("not an SSE data line: %r" % line)
        if event:   # SSE drops an event that no blank line ends: a client would never see it
            raise AssertionError("the stream ended inside an event: %r" % event)
        return resp.status, resp.headers, payloads, lines
    finally:
        conn.close()


class SyncChatTest(harness.IntegrationTest):
    def chat(self, server, body, **kw):
        return request("POST", server.url + "/v1/chat/completions", json=body, timeout=20, **kw)

    def stats_model(self, server, alias):
        r = request("GET", server.url + "/v1/stats")
        self.assertEqual(r.status, 200, r)
        found = [m for m in r.body["models"] if m["model_alias"] == alias]
        self.assertEqual(len(found), 1, r.body["models"])
        return found[0]

    def mock_answer(self, mock, body):
        """What the provider itself answers to the same request (the answer engine is deterministic)."""
        r = request("POST", mock.url + "/v1/chat/completions", json=body)
        self.assertEqual(r.status, 200, r)
        return r.body

    def assert_overhead_header(self, headers):
        value = headers.get("X-Sluice-Overhead-Ms")
        self.assertIsNotNone(value, "no X-Sluice-Overhead-Ms header: %r" % dict(headers))
        ms = float(value)   # a ValueError fails the test: it must be a number
        self.assertTrue(math.isfinite(ms) and ms >= 0, value)

    def assert_chat_completion(self, body):
        """The OpenAI chat.completion shape, strictly: types, not just presence."""
        self.assertIsInstance(body, dict, body)
        self.assertIsInstance(body.get("id"), str, body)
        self.assertTrue(body["id"], body)
        self.assertEqual(body.get("object"), "chat.completion", body)
        self.assertTrue(is_int(body.get("created")), body)
        self.assertLess(abs(body["created"] - time.time()), 3600, "created is not Unix seconds: %r" % body)
        self.assertIsInstance(body.get("model"), str, body)
        self.assertTrue(body["model"], body)
        choices = body.get("choices")
        self.assertIsInstance(choices, list, body)
        self.assertEqual(len(choices), 1, body)
        choice = choices[0]
        self.assertEqual(choice.get("index"), 0, choice)
        self.assertIsInstance(choice.get("message"), dict, choice)
        self.assertEqual(choice["message"].get("role"), "assistant", choice)
        self.assertIsInstance(choice["message"].get("content"), str, choice)
        self.assertTrue(choice["message"]["content"], "empty content: %r" % choice)
        self.assertIsInstance(choice.get("finish_reason"), str, choice)
        self.assertTrue(choice["finish_reason"], choice)
        usage = body.get("usage")
        self.assertIsInstance(usage, dict, body)
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.assertTrue(is_int(usage.get(key)) and usage[key] >= 0, usage)
        self.assertGreater(usage["prompt_tokens"], 0, usage)
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"], usage)

    def two_providers(self, primary_url):
        """fast on "primary" at `primary_url` falling back to strong on "backup" (a mock)."""
        backup = self.start_mock(latency="20ms")
        providers = [{"name": "primary", "base_url": primary_url, "timeout": "5s"},
                     {"name": "backup", "base_url": backup.base_url, "timeout": "5s"}]
        models = [dict(FAST, provider="primary", fallback=["strong"]), dict(STRONG, provider="backup")]
        return backup, self.start_server(providers=providers, models=models)


class CompletionTest(SyncChatTest):
    def test_happy_path_is_an_openai_chat_completion(self):
        mock = self.start_mock(latency="20ms")
        server = self.start_server(mock=mock)
        body = {"model": "fast", "messages": messages(), "temperature": 0}
        r = self.chat(server, body)
        self.assertEqual(r.status, 200, r)
        self.assertIn("application/json", r.header("Content-Type", ""))
        self.assert_overhead_header(r.headers)
        self.assert_chat_completion(r.body)
        # The provider's answer, passed through: the alias resolved to its model id.
        direct = self.mock_answer(mock, dict(body, model="gpt-4o-mini"))
        self.assertEqual(r.body["choices"][0]["message"]["content"], direct["choices"][0]["message"]["content"])
        self.assertEqual(r.body["usage"], direct["usage"])
        self.assertEqual(r.body["model"], "gpt-4o-mini")
        ext = r.body.get("sluice")
        self.assertIsInstance(ext, dict, r.body)
        self.assertEqual((ext["model_alias"], ext["provider"]), ("fast", "mock"), ext)
        self.assertEqual(ext["cost_usd"], call_cost("fast", r.body["usage"]), ext)
        self.assertEqual([(a["model_alias"], a["outcome"]) for a in ext["attempts"]], [("fast", "ok")], ext)
        self.assertEqual(mock.stats()["requests"], 2)   # ours and the direct one

    def test_streaming_sends_chunks_that_add_up_to_the_answer(self):
        mock = self.start_mock(latency="20ms")
        server = self.start_server(mock=mock)
        plain = self.chat(server, {"model": "fast", "messages": messages()})
        self.assertEqual(plain.status, 200, plain)
        want = plain.body["choices"][0]["message"]["content"]

        status, headers, payloads, lines = read_sse(
            server, {"model": "fast", "messages": messages(), "stream": True, "stream_options": {"include_usage": True}})
        self.assertEqual(status, 200, lines)
        self.assertIn("text/event-stream", headers.get("Content-Type", ""))
        self.assert_overhead_header(headers)
        self.assertGreaterEqual(len(payloads), 3, lines)
        self.assertEqual(payloads[-1], "[DONE]", lines)
        chunks = [json.loads(p) for p in payloads[:-1]]
        self.assertNotIn("[DONE]", payloads[:-1])

        ids = {c.get("id") for c in chunks}
        self.assertEqual(len(ids), 1, "one id for the whole stream: %r" % ids)
        self.assertIsInstance(ids.pop(), str)
        for c in chunks:
            self.assertEqual(c.get("object"), "chat.completion.chunk", c)
            self.assertTrue(is_int(c.get("created")), c)
            self.assertEqual(c.get("model"), "gpt-4o-mini", c)
            self.assertIsInstance(c.get("choices"), list, c)

        choice_chunks = [c for c in chunks if c["choices"]]
        usage_chunks = [c for c in chunks if c.get("usage") is not None]
        self.assertEqual(choice_chunks[0]["choices"][0]["delta"].get("role"), "assistant", choice_chunks[0])
        content = "".join(c["choices"][0]["delta"].get("content") or "" for c in choice_chunks)
        self.assertEqual(content, want, "the deltas do not add up to the answer")
        finishes = [c["choices"][0].get("finish_reason") for c in choice_chunks]
        self.assertIsInstance(finishes[-1], str, "no finish_reason on the last choice chunk: %r" % choice_chunks[-1])
        self.assertEqual(finishes[-1], plain.body["choices"][0]["finish_reason"])
        self.assertTrue(all(f is None for f in finishes[:-1]), finishes)

        self.assertEqual(len(usage_chunks), 1, chunks)
        self.assertIs(chunks[-1], usage_chunks[0], "the usage chunk comes last, after the finish")
        self.assertEqual(usage_chunks[0]["choices"], [])
        self.assertEqual(usage_chunks[0]["usage"], plain.body["usage"])

    def test_streaming_without_include_usage_has_no_usage_chunk(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        status, _, payloads, lines = read_sse(server, {"model": "strong", "messages": messages(), "stream": True})
        self.assertEqual(status, 200, lines)
        self.assertEqual(payloads[-1], "[DONE]", lines)
        chunks = [json.loads(p) for p in payloads[:-1]]
        self.assertTrue(chunks, lines)
        self.assertTrue(all(c["choices"] and c.get("usage") is None for c in chunks), chunks)
        self.assertIsInstance(chunks[-1]["choices"][0]["finish_reason"], str, chunks[-1])
        self.assertTrue("".join(c["choices"][0]["delta"].get("content") or "" for c in chunks))

    def test_dead_primary_is_answered_by_the_fallback(self):
        backup, server = self.two_providers("http://127.0.0.1:%d/v1" % free_port())
        r = self.chat(server, {"model": "fast", "messages": messages()})
        self.assertEqual(r.status, 200, r)
        self.assert_chat_completion(r.body)
        self.assert_overhead_header(r.headers)
        self.assertEqual(r.body["model"], "gpt-4o", r.body)
        ext = r.body["sluice"]
        self.assertEqual((ext["model_alias"], ext["provider"]), ("strong", "backup"), ext)
        self.assertEqual([(a["model_alias"], a["provider"], a["outcome"]) for a in ext["attempts"]],
                         [("fast", "primary", "connect_error"), ("strong", "backup", "ok")], ext)
        self.assertEqual(ext["cost_usd"], call_cost("strong", r.body["usage"]), ext)
        self.assertEqual(ext["cost_usd"], sum(a["cost_usd"] for a in ext["attempts"]), ext)
        self.assertEqual(backup.stats()["requests"], 1)
        fast, strong = self.stats_model(server, "fast"), self.stats_model(server, "strong")
        self.assertEqual((fast["calls"], fast["failures"]), (1, 1), fast)
        self.assertEqual((strong["calls"], strong["failures"]), (1, 0), strong)

    def test_a_failing_provider_answers_an_error_not_a_200(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        self.assertTrue(mock.configure({"script": "500"})["script"])
        r = self.chat(server, {"model": "fast", "messages": messages()})
        self.assertIn(r.status, (502, 503, 504), r)
        self.assertEqual(r.error_code, "provider_error", r)
        self.assertEqual(mock.stats()["requests"], 1, "the sync path retried underneath")
        # Every gateway answer, errors included, says what Sluice added.
        self.assertGreaterEqual(float(r.header("X-Sluice-Overhead-Ms")), 0.0, r)

    def test_a_rate_limited_provider_passes_on_its_retry_after(self):
        mock = self.start_mock(latency="10ms", retry_after="3")
        server = self.start_server(mock=mock)
        self.assertTrue(mock.configure({"script": "429"})["script"])
        r = self.chat(server, {"model": "fast", "messages": messages()})
        self.assertEqual(r.error_code, "rate_limited", r)
        self.assertEqual(r.header("Retry-After"), "3", r)

    def test_the_call_counts_in_stats(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        before = self.stats_model(server, "strong")
        r = self.chat(server, {"model": "strong", "messages": messages()})
        self.assertEqual(r.status, 200, r)
        after = self.stats_model(server, "strong")
        self.assertEqual(after["calls"], before["calls"] + 1, (before, after))
        self.assertEqual(after["failures"], before["failures"], (before, after))
        self.assertAlmostEqual(after["cost_usd"] - before["cost_usd"], r.body["sluice"]["cost_usd"], places=12)
        self.assertEqual(self.stats_model(server, "fast")["calls"], 0)


class RefusalTest(SyncChatTest):
    def test_long_input_answers_413_use_async(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock, server={"sync_max_input_tokens": 50})
        long_text = ("Please check why my card payment failed at the shop today. " * 10)[:400]  # ~100 tokens
        body = {"model": "fast", "messages": [{"role": "user", "content": long_text}]}
        r = self.chat(server, body)
        self.assertEqual(r.status, 413, r)
        self.assertEqual(r.error_code, "use_async", r)
        self.assertIsInstance(r.body["error"].get("message"), str)
        self.assertEqual(mock.stats()["requests"], 0, "an input over the sync limit reached the provider")
        # Under the limit the same server answers; and the hint works: the same body as a job runs.
        short = self.chat(server, {"model": "fast", "messages": [{"role": "user", "content": "Is my card blocked?"}]})
        self.assertEqual(short.status, 200, short)
        job = submit_ok(server, {"type": "chat", "request": body})
        done = wait_job(server, job["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)

    def test_unknown_model_is_400_and_reaches_no_provider(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        r = self.chat(server, {"model": "no-such-alias", "messages": messages()})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.body["error"].get("field"), "model", r)
        self.assertEqual(mock.stats()["requests"], 0)

    def test_the_provider_model_id_answers_to_its_alias(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        r = self.chat(server, {"model": "gpt-4o", "messages": messages()})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["sluice"]["model_alias"], "strong", r.body)
        self.assertEqual(r.body["model"], "gpt-4o")

    def test_malformed_bodies_are_400_never_5xx(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        ok_messages = [{"role": "user", "content": "hi"}]
        cases = [
            ("not JSON", b"{\"model\": \"fast\", \"messages\": [", None),
            ("empty body", b"", None),
            ("a JSON array", b"[]", None),
            ("a JSON string", b"\"fast\"", None),
            ("no model", {"messages": ok_messages}, "model"),
            ("model not a string", {"model": 7, "messages": ok_messages}, "model"),
            ("empty model", {"model": "", "messages": ok_messages}, "model"),
            ("no messages", {"model": "fast"}, "messages"),
            ("messages not an array", {"model": "fast", "messages": "hi"}, "messages"),
            ("empty messages", {"model": "fast", "messages": []}, "messages"),
            ("a message not an object", {"model": "fast", "messages": ["hi"]}, "messages[0]"),
            ("a message without role", {"model": "fast", "messages": [{"content": "hi"}]}, "messages[0]"),
            ("role not a string", {"model": "fast", "messages": [{"role": 1, "content": "hi"}]}, "messages[0]"),
            ("stream not a bool", {"model": "fast", "messages": ok_messages, "stream": "yes"}, "stream"),
        ]
        for name, body, field in cases:
            with self.subTest(name):
                if isinstance(body, bytes):
                    r = request("POST", server.url + "/v1/chat/completions", data=body,
                                headers={"Content-Type": "application/json"})
                else:
                    r = self.chat(server, body)
                self.assertEqual(r.status, 400, r)
                self.assertIsInstance(r.body, dict, r)
                self.assertIsInstance(r.error_code, str, r)
                self.assertIsInstance(r.body["error"].get("message"), str, r)
                if field is not None:
                    self.assertEqual(r.body["error"].get("field"), field, r)
        self.assertEqual(mock.stats()["requests"], 0, "a malformed request reached the provider")
        self.assertEqual(request("GET", server.url + "/healthz").status, 200)


if __name__ == "__main__":
    unittest.main()
