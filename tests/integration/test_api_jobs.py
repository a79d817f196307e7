"""Integration tests of the jobs API (API.md "Jobs", "Large inputs", healthz/readyz/metrics,
GET /v1/models) against a real `sluice serve` and two `sluice mock-llm` processes.

One server serves every test of the class (they do not interfere: each test uses its own
object ids, and the tests that count jobs use a queue of their own). The server has two
providers: "quick" (a mock answering in a few milliseconds) behind the aliases "fast" and
"strong", and "slowpoke" (a mock answering after SLOW_MS) behind the alias "slow"; a job that
pins `"model": "slow"` stays running long enough to be seen running, waited on or canceled.

Run: SLUICE_BIN=build/sluice SLUICE_TASKS_DIR=tasks python3 -m unittest -v test_api_jobs
"""

import hashlib
import json
import os
import re
import threading
import unittest
import urllib.parse
import uuid
from datetime import datetime
from pathlib import Path

import harness
from harness import request, submit, submit_ok, submit_bulk, wait_job, wait_until

SLOW_MS = 1500            # the slow provider's latency: long enough to watch a job run
SLOW_MODEL_ID = "mock-slow-1"
PRICES = {"fast": (0.15, 0.60), "strong": (2.50, 10.00), "slow": (0.15, 0.60)}
QUEUES = ("urgent", "listing", "metrics")
CLEAR_TICKET = "I was charged twice for the same purchase at the shop, please refund one payment."


def uid(prefix):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:10])


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def load_schema(name):
    return json.loads((Path(harness.TASKS_DIR) / "schemas" / (name + ".json")).read_text(encoding="utf-8"))


def schema_errors(value, schema, path="output"):
    """The ways `value` breaks `schema` (the JSON Schema subset the bundled schemas use)."""
    errors = []
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        checks = {"object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
                  "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
                  "null": lambda v: v is None,
                  "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
                  "integer": lambda v: isinstance(v, int) and not isinstance(v, bool)}
        if not any(checks[t](value) for t in types):
            return ["%s: %r is not of type %s" % (path, value, types)]
    if "enum" in schema and value not in schema["enum"]:
        errors.append("%s: %r not in %r" % (path, value, schema["enum"]))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append("%s: %r < minimum %r" % (path, value, schema["minimum"]))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append("%s: %r > maximum %r" % (path, value, schema["maximum"]))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append("%s: missing %s" % (path, key))
        for key, v in value.items():
            if key in props:
                errors.extend(schema_errors(v, props[key], "%s.%s" % (path, key)))
            elif schema.get("additionalProperties") is False:
                errors.append("%s: unexpected key %s" % (path, key))
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            errors.extend(schema_errors(v, schema["items"], "%s[%d]" % (path, i)))
    return errors


class SharedServerTest(harness.SharedProcessesTest):
    """One quick mock, one slow mock and one server for the whole class."""

    SERVER = {}

    @classmethod
    def start_class_processes(cls):
        cls.quick = cls.start_class_proc(harness.MockLlm(latency="20ms", tmp_dir=cls.class_tmp))
        cls.slow_mock = cls.start_class_proc(harness.MockLlm(latency="%dms" % SLOW_MS, tmp_dir=cls.class_tmp))
        providers = [
            {"name": "quick", "base_url": cls.quick.base_url, "timeout": "10s", "max_concurrency": 256},
            {"name": "slowpoke", "base_url": cls.slow_mock.base_url, "timeout": "10s",
             "max_concurrency": 256},
        ]
        models = harness.default_models("quick") + [
            {"alias": "slow", "provider": "slowpoke", "id": SLOW_MODEL_ID,
             "input_usd_per_mtok": PRICES["slow"][0], "output_usd_per_mtok": PRICES["slow"][1]}]
        cls.server = cls.start_class_proc(harness.Server(
            providers=providers, models=models, tmp_dir=cls.class_tmp, server=dict(cls.SERVER),
            queues=[{"name": q, "max_concurrency": 16} for q in QUEUES]))

    # -- helpers ----------------------------------------------------------------------------
    @property
    def url(self):
        return self.server.url

    def get(self, path, **kw):
        return request("GET", self.url + path, **kw)

    def post(self, path, json=None, **kw):
        return request("POST", self.url + path, json=json, **kw)

    def job(self, job_id):
        r = self.get("/v1/jobs/" + job_id)
        self.assertEqual(r.status, 200, r)
        return r.body

    def list_all(self, **filters):
        """Every job matching the filters, following the cursor; also returns the pages."""
        jobs, pages, after = [], [], None
        for _ in range(1000):
            q = dict(filters)
            if after:
                q["after"] = after
            r = self.get("/v1/jobs?" + urllib.parse.urlencode(q))
            self.assertEqual(r.status, 200, r)
            pages.append(r.body["data"])
            jobs.extend(r.body["data"])
            after = r.body.get("next")
            if not after:
                return jobs, pages
        self.fail("the list cursor never ended")

    def assert_error(self, r, status, code=None):
        self.assertEqual(r.status, status, r)
        self.assertIsInstance(r.body, dict, r)
        self.assertIsInstance(r.body.get("error"), dict, r)
        self.assertIsInstance(r.body["error"].get("code"), str, r)
        self.assertRegex(r.body["error"]["code"], r"^[a-z][a-z0-9_]*$")
        self.assertTrue(r.body["error"].get("message"), r)
        if code is not None:
            self.assertEqual(r.body["error"]["code"], code, r)

    def event_types(self, job_id):
        r = self.get("/v1/jobs/%s/events" % job_id)
        self.assertEqual(r.status, 200, r)
        return [e["type"] for e in r.body["data"]]

    def assert_ticket_result(self, result, job_id, alias, provider, model_id):
        """A done classify_ticket result record, complete and consistent."""
        self.assertEqual(result["job_id"], job_id)
        self.assertEqual(schema_errors(result["output"], load_schema("ticket_class_v1")), [], result)
        self.assertIsInstance(result["text"], str)
        self.assertEqual(json.loads(result["text"]), result["output"])   # output is the parsed text
        self.assertEqual(result["model"], model_id)
        self.assertEqual(result["model_alias"], alias)
        self.assertEqual(result["provider"], provider)
        self.assertEqual(result["prompt_version"], "v2")
        self.assertEqual(result["response_schema"], "ticket_class_v1")
        usage = result["usage"]
        for key in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.assertIsInstance(usage[key], int, usage)
        self.assertGreater(usage["prompt_tokens"], 0)
        self.assertGreater(usage["completion_tokens"], 0)
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        inp, out = PRICES[alias]
        expected_cost = (usage["prompt_tokens"] * inp + usage["completion_tokens"] * out) / 1e6
        self.assertGreater(result["cost_usd"], 0)
        self.assertAlmostEqual(result["cost_usd"], expected_cost, delta=expected_cost * 1e-6)
        attempts = result["attempts"]
        self.assertIsInstance(attempts, list)
        self.assertGreaterEqual(len(attempts), 1)
        self.assertEqual([a["n"] for a in attempts], list(range(1, len(attempts) + 1)))
        self.assertEqual(attempts[-1]["outcome"], "ok", attempts)
        self.assertEqual(attempts[-1]["provider"], provider)
        self.assertEqual(attempts[-1]["model"], model_id)
        self.assertIsInstance(result["queue_ms"], int)
        self.assertIsInstance(result["processing_ms"], int)


class JobsApiTest(SharedServerTest):
    SERVER = {"bulk_limit": 5}

    # -- lifecycle ----------------------------------------------------------------------------
    def test_lifecycle_queued_running_done_with_result(self):
        oid = uid("life")
        metadata = {"customer": "acme", "tags": ["vip", 1], "nested": {"ok": True}}
        r = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=oid, model="slow",
                                                     source="crm.ticket_body", metadata=metadata))
        self.assertEqual(r.status, 202, r)
        job = r.body
        self.assertEqual((job["metadata"], job["source"], job["model"]), (metadata, "crm.ticket_body", "slow"))
        self.assertTrue(job["id"].startswith("job_"), job)
        self.assertEqual(r.header("Location"), "/v1/jobs/" + job["id"])
        self.assertEqual(job["status"], "queued")
        self.assertIs(job["deduplicated"], False)
        self.assertEqual((job["object"], job["type"], job["object_id"]), ("job", "classify_ticket", oid))
        self.assertEqual((job["queue"], job["priority"], job["prompt_version"]), ("default", 5, "v2"))
        self.assertEqual(job["dedup_key"], "classify_ticket:%s:v2" % oid)
        self.assertIsNone(job["finished_at"])

        # No result while it is not done: 404 result_not_ready, separate from the job's status.
        self.assert_error(self.get("/v1/jobs/%s/result" % job["id"]), 404, "result_not_ready")

        def seen_running():
            current = self.job(job["id"])
            self.assertIn(current["status"], ("queued", "running"))   # never skips running
            return current if current["status"] == "running" else None

        running = wait_until(seen_running, timeout=SLOW_MS / 1000 + 10, message="the job to be seen running")
        self.assertIsNotNone(running["started_at"])
        self.assertIsNone(running["finished_at"])
        self.assertIsNone(running["result"])
        self.assert_error(self.get("/v1/jobs/%s/result" % job["id"]), 404, "result_not_ready")

        done = wait_job(self.server, job["id"])
        self.assertEqual(done["status"], "done", done)
        self.assertIsNone(done["error"])
        self.assertIsNotNone(done["finished_at"])
        self.assertLessEqual(parse_time(done["started_at"]), parse_time(done["finished_at"]))
        self.assert_ticket_result(done["result"], job["id"], "slow", "slowpoke", SLOW_MODEL_ID)
        self.assertEqual(done["result"]["output"]["category"], "double_charge")   # it read the text
        self.assertAlmostEqual(done["cost_usd"], done["result"]["cost_usd"], places=12)
        self.assertEqual(done["metadata"], metadata)   # stored and echoed back

        separate = self.get("/v1/jobs/%s/result" % job["id"])
        self.assertEqual(separate.status, 200, separate)
        self.assertEqual(separate.body, done["result"])

    def test_unknown_job_id_is_404_everywhere(self):
        missing = "job_" + "0" * 26
        for method, path in (("GET", "/v1/jobs/" + missing), ("GET", "/v1/jobs/%s/result" % missing),
                             ("GET", "/v1/jobs/%s/events" % missing), ("POST", "/v1/jobs/%s/cancel" % missing),
                             ("GET", "/v1/jobs/%s?wait=200ms" % missing), ("GET", "/v1/jobs/nonsense")):
            with self.subTest(method=method, path=path):
                self.assert_error(request(method, self.url + path), 404)

    # -- dedup ----------------------------------------------------------------------------------
    def test_same_object_id_is_deduplicated(self):
        oid = uid("dup")
        first = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=oid))
        self.assertEqual(first.status, 202, first)
        again = submit(self.server, harness.classify_job("some other text", object_id=oid))
        self.assertEqual(again.status, 200, again)
        self.assertIs(again.body["deduplicated"], True)
        self.assertEqual(again.body["id"], first.body["id"])

        # A finished job still deduplicates.
        done = wait_job(self.server, first.body["id"])
        self.assertEqual(done["status"], "done", done)
        late = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=oid))
        self.assertEqual((late.status, late.body["id"], late.body["deduplicated"]),
                         (200, first.body["id"], True), late)
        self.assertEqual(late.body["status"], "done")

        # The default key includes the prompt version: v1 of the same object is a new job.
        v1 = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=oid, prompt_version="v1"))
        self.assertEqual(v1.status, 202, v1)
        self.assertNotEqual(v1.body["id"], first.body["id"])
        self.assertEqual(v1.body["dedup_key"], "classify_ticket:%s:v1" % oid)
        self.assertEqual(len(self.list_all(object_id=oid)[0]), 2)

    def test_explicit_dedup_key(self):
        key = uid("key")
        first = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("a"), dedup_key=key))
        self.assertEqual(first.status, 202, first)
        self.assertEqual(first.body["dedup_key"], key)
        second = submit(self.server, harness.classify_job("other text", object_id=uid("b"), dedup_key=key))
        self.assertEqual((second.status, second.body["id"], second.body["deduplicated"]),
                         (200, first.body["id"], True), second)
        other = submit(self.server, harness.classify_job(CLEAR_TICKET, dedup_key=key + "-other"))
        self.assertEqual(other.status, 202, other)
        self.assertNotEqual(other.body["id"], first.body["id"])

    def test_concurrent_identical_submits_make_one_job(self):
        oid = uid("race")
        body = harness.classify_job(CLEAR_TICKET, object_id=oid, run_in="1h")
        n = 50
        barrier = threading.Barrier(n)
        answers = [None] * n

        def one(i):
            try:
                barrier.wait(timeout=30)
                answers[i] = submit(self.server, body, timeout=30)
            except BaseException as e:   # reported below, in the test's thread
                answers[i] = e

        threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        errors = [a for a in answers if not isinstance(a, harness.Response)]
        self.assertEqual(errors, [])
        statuses = sorted(a.status for a in answers)
        self.assertEqual(statuses, [200] * (n - 1) + [202], [a for a in answers if a.status not in (200, 202)])
        self.assertEqual(len({a.body["id"] for a in answers}), 1)
        self.assertEqual(sorted(a.body["deduplicated"] for a in answers), [False] + [True] * (n - 1))
        self.assertEqual(len(self.list_all(object_id=oid)[0]), 1)

    # -- waiting --------------------------------------------------------------------------------
    def test_submit_with_wait_answers_200_with_the_finished_job(self):
        r = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("wait")), wait="5s", timeout=30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "done", r)
        self.assertIs(r.body["deduplicated"], False)
        self.assert_ticket_result(r.body["result"], r.body["id"], "fast", "quick", "gpt-4o-mini")

    def test_submit_with_wait_shorter_than_the_model_answers_202(self):
        r = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("wait"), model="slow"),
                   wait="200ms", timeout=30)
        self.assertEqual(r.status, 202, r)
        self.assertIn(r.body["status"], ("queued", "running"), r)
        self.assertIsNone(r.body.get("result"))
        self.assertEqual(r.header("Location"), "/v1/jobs/" + r.body["id"])
        # ...and the job goes on in the background.
        self.assertEqual(wait_job(self.server, r.body["id"])["status"], "done")

    def test_get_with_wait_returns_when_the_job_finishes(self):
        job = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("poll"), model="slow"))
        self.assertNotIn(self.job(job["id"])["status"], harness.SETTLED)
        # The wait (60s, the default max_wait) is longer than the client's patience (30s): only
        # a long-poll that wakes when the job finishes can answer in time.
        r = self.get("/v1/jobs/%s?wait=60s" % job["id"], timeout=30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "done", r)
        self.assertEqual(r.body["result"]["job_id"], job["id"])

    def test_get_with_wait_answers_the_current_state_when_the_wait_ends(self):
        job = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("poll"), run_in="1h"))
        r = self.get("/v1/jobs/%s?wait=300ms" % job["id"], timeout=30)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "queued")

    # -- bulk -------------------------------------------------------------------------------------
    def test_bulk_with_invalid_items(self):
        oids = [uid("bulk%d" % i) for i in range(5)]
        items = [
            harness.classify_job(CLEAR_TICKET, object_id=oids[0]),
            {"type": "classify_ticket", "object_id": oids[1]},                                   # no input
            harness.classify_job("My card is blocked abroad", object_id=oids[2], queue="urgent", priority=8),
            harness.classify_job(CLEAR_TICKET, object_id=oids[3], priority=10),                  # bad priority
            {"type": "no_such_type", "input": {"text": "x"}, "object_id": oids[4]},              # bad type
        ]
        r = submit_bulk(self.server, items)
        self.assertEqual(r.status, 200, r)
        answers = r.body["jobs"]
        self.assertEqual(len(answers), 5, r)
        fields = [a["error"].get("field") if "error" in a else None for a in answers]
        self.assertEqual(fields, [None, "input", None, "priority", "type"], answers)
        for i in (1, 3, 4):
            self.assertRegex(answers[i]["error"]["code"], r"^[a-z][a-z0-9_]*$")
            self.assertTrue(answers[i]["error"]["message"])
            self.assertEqual(self.list_all(object_id=oids[i])[0], [], "invalid item %d was stored" % i)
        for i, queue, priority in ((0, "default", 5), (2, "urgent", 8)):
            a = answers[i]
            self.assertTrue(a["id"].startswith("job_"), a)
            self.assertIs(a["deduplicated"], False)
            self.assertIn(a["status"], ("queued", "running", "done"))
            stored = self.job(a["id"])
            self.assertEqual((stored["object_id"], stored["queue"], stored["priority"]), (oids[i], queue, priority))
            self.assertEqual(wait_job(self.server, a["id"])["status"], "done")

    def test_bulk_over_the_limit_is_refused_whole(self):
        oids = [uid("over%d" % i) for i in range(6)]
        r = submit_bulk(self.server, [harness.classify_job(CLEAR_TICKET, object_id=o) for o in oids])
        self.assert_error(r, 400)
        for o in oids:
            self.assertEqual(self.list_all(object_id=o)[0], [])
        # At the limit it is fine.
        ok = submit_bulk(self.server, [harness.classify_job(CLEAR_TICKET, object_id=o) for o in oids[:5]])
        self.assertEqual(ok.status, 200, ok)
        self.assertTrue(all("id" in a for a in ok.body["jobs"]), ok)

    # -- blobs --------------------------------------------------------------------------------------
    def test_blob_round_trip_and_idempotence(self):
        content = bytes(range(256)) * 4 + uuid.uuid4().bytes   # binary, not UTF-8
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        first = self.post("/v1/blobs", data=content, headers={"Content-Type": "application/octet-stream"})
        self.assertIn(first.status, (200, 201), first)
        self.assertEqual((first.body["id"], first.body["bytes"]), (digest, len(content)))
        again = self.post("/v1/blobs", data=content, headers={"Content-Type": "application/octet-stream"})
        self.assertIn(again.status, (200, 201), again)
        self.assertEqual((again.body["id"], again.body["bytes"]), (digest, len(content)))
        got = self.get("/v1/blobs/" + digest)
        self.assertEqual(got.status, 200)
        self.assertEqual(got.raw, content)
        self.assert_error(self.get("/v1/blobs/sha256:" + "0" * 64), 404)

    def test_job_with_a_blob_input_runs_to_done(self):
        text = ("Ticket %s: %s" % (uuid.uuid4().hex, CLEAR_TICKET)).encode("utf-8")
        up = self.post("/v1/blobs", data=text, headers={"Content-Type": "text/plain"})
        self.assertIn(up.status, (200, 201), up)
        blob_id = up.body["id"]
        self.assertEqual(blob_id, "sha256:" + hashlib.sha256(text).hexdigest())
        job = submit(self.server, {"type": "classify_ticket", "input": {"blob": blob_id}})
        self.assertEqual(job.status, 202, job)
        done = wait_job(self.server, job.body["id"])
        self.assertEqual(done["status"], "done", done)
        self.assert_ticket_result(done["result"], job.body["id"], "fast", "quick", "gpt-4o-mini")
        self.assertEqual(done["result"]["output"]["category"], "double_charge")   # the blob's text was read

    def test_job_with_an_unknown_blob_is_refused(self):
        oid = uid("noblob")
        r = submit(self.server, {"type": "classify_ticket", "input": {"blob": "sha256:" + "ab" * 32},
                                 "object_id": oid})
        self.assert_error(r, 400)
        self.assertEqual(r.body["error"].get("field"), "input.blob", r)
        self.assertEqual(self.list_all(object_id=oid)[0], [])

    # -- lists ----------------------------------------------------------------------------------------
    def test_list_filters_and_cursor_paging(self):
        tag = uid("list")
        queued = [submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id="%s-%d" % (tag, i),
                                                              queue="listing", run_in="1h"))["id"]
                  for i in range(5)]
        summary = submit_ok(self.server, {"type": "summarize", "input": {"text": "The customer called."},
                                          "queue": "listing", "run_in": "1h", "object_id": tag + "-s"})["id"]
        finished = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=tag + "-d",
                                                               queue="listing"))["id"]
        self.assertEqual(wait_job(self.server, finished)["status"], "done")

        jobs, pages = self.list_all(queue="listing", type="classify_ticket", status="queued", limit=2)
        ids = [j["id"] for j in jobs]
        self.assertEqual([len(p) for p in pages], [2, 2, 1])
        self.assertEqual(sorted(ids), sorted(queued))       # all five, each exactly once
        self.assertEqual(len(set(ids)), 5)
        created = [parse_time(j["created_at"]) for j in jobs]
        self.assertEqual(created, sorted(created, reverse=True))   # newest first
        for j in jobs:
            self.assertNotIn("result", j)                    # omitted in lists
            self.assertEqual((j["queue"], j["type"], j["status"]), ("listing", "classify_ticket", "queued"))

        everything, _ = self.list_all(queue="listing", limit=3)
        self.assertEqual(sorted(j["id"] for j in everything), sorted(queued + [summary, finished]))
        self.assertEqual([j["id"] for j in self.list_all(queue="listing", status="done")[0]], [finished])
        self.assertEqual([j["id"] for j in self.list_all(queue="listing", type="summarize")[0]], [summary])
        self.assertEqual([j["id"] for j in self.list_all(object_id="%s-3" % tag)[0]], [queued[3]])
        self.assertEqual(self.list_all(queue="listing", status="failed")[0], [])

    # -- events -----------------------------------------------------------------------------------------
    def test_events_of_a_done_job_in_order(self):
        job = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("ev")))
        self.assertEqual(wait_job(self.server, job["id"])["status"], "done")
        r = self.get("/v1/jobs/%s/events" % job["id"])
        self.assertEqual(r.status, 200, r)
        events = r.body["data"]
        types = [e["type"] for e in events]
        for t in ("submitted", "started", "done"):
            self.assertIn(t, types)
        self.assertLess(types.index("submitted"), types.index("started"))
        self.assertLess(types.index("started"), types.index("done"))
        self.assertEqual(types.count("done"), 1)
        times = [parse_time(e["at"]) for e in events]
        self.assertEqual(times, sorted(times))

    # -- cancel -------------------------------------------------------------------------------------------
    def test_cancel_a_queued_job_then_again_is_409(self):
        job = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("cq"), run_in="1h"))
        self.assertEqual(job["status"], "queued")
        r = self.post("/v1/jobs/%s/cancel" % job["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["id"], r.body["status"]), (job["id"], "canceled"))
        self.assertEqual(self.job(job["id"])["status"], "canceled")
        self.assert_error(self.post("/v1/jobs/%s/cancel" % job["id"]), 409)
        self.assertEqual(self.job(job["id"])["status"], "canceled")
        self.assertIn("canceled", self.event_types(job["id"]))

    def test_cancel_a_running_job(self):
        job = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("cr"), model="slow"))
        wait_until(lambda: self.job(job["id"])["status"] == "running", timeout=SLOW_MS / 1000 + 10,
                   message="the job to run")
        # A long-poll in progress is woken by the cancel.
        polled = {}
        poller = threading.Thread(target=lambda: polled.setdefault(
            "r", self.get("/v1/jobs/%s?wait=60s" % job["id"], timeout=30)))
        poller.start()
        r = self.post("/v1/jobs/%s/cancel" % job["id"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "canceled")
        poller.join(40)
        self.assertIn("r", polled, "the long-poll did not answer")
        self.assertEqual((polled["r"].status, polled["r"].body["status"]), (200, "canceled"), polled["r"])
        # A job submitted after the cancel on the same slow model finishes after the canceled
        # call would have: once it is done, the canceled call's answer would have landed too.
        later = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("cr-after"), model="slow"))
        self.assertEqual(wait_job(self.server, later["id"])["status"], "done")
        after = self.job(job["id"])
        self.assertEqual(after["status"], "canceled", after)
        self.assertIsNone(after["result"])
        self.assert_error(self.get("/v1/jobs/%s/result" % job["id"]), 404)
        types = self.event_types(job["id"])
        self.assertIn("canceled", types)
        self.assertNotIn("done", types)
        self.assert_error(self.post("/v1/jobs/%s/cancel" % job["id"]), 409)

    # -- scheduling -----------------------------------------------------------------------------------------
    def test_run_in_the_future_is_scheduled_then_runs(self):
        r = submit(self.server, harness.classify_job(CLEAR_TICKET, object_id=uid("sched"), run_in="1s"))
        self.assertEqual(r.status, 202, r)
        job = r.body
        self.assertEqual(job["status"], "queued")
        self.assertEqual(job["blocked_reason"], "scheduled")
        self.assertGreater(parse_time(job["run_at"]), parse_time(job["created_at"]))
        done = wait_job(self.server, job["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        self.assertIsNone(done["blocked_reason"])
        self.assertGreaterEqual(parse_time(done["started_at"]), parse_time(job["run_at"]))

    # -- chat -------------------------------------------------------------------------------------------------
    def test_chat_job_runs_to_done(self):
        body = {"type": "chat", "request": {"model": "fast", "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "user", "content": "Say hello to the support team."}]}}
        r = submit(self.server, body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.body["type"], "chat")
        done = wait_job(self.server, r.body["id"])
        self.assertEqual(done["status"], "done", done)
        result = done["result"]
        self.assertEqual(result["job_id"], r.body["id"])
        self.assertIsInstance(result["text"], str)
        self.assertTrue(result["text"].strip())
        self.assertEqual((result["model_alias"], result["provider"], result["model"]), ("fast", "quick", "gpt-4o-mini"))
        self.assertGreater(result["usage"]["total_tokens"], 0)
        self.assertEqual(result["attempts"][-1]["outcome"], "ok")

    # -- models and operations --------------------------------------------------------------------------------
    def test_models_lists_the_configured_aliases(self):
        r = self.get("/v1/models")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["object"], "list")
        by_id = {m["id"]: m for m in r.body["data"]}
        self.assertLessEqual({"fast", "strong", "slow"}, set(by_id))
        for alias in ("fast", "strong", "slow"):
            self.assertEqual(by_id[alias]["object"], "model")
        self.assertNotIn("gpt-4o-mini", by_id)   # aliases, not provider model ids

    def test_healthz_and_readyz(self):
        for path in ("/healthz", "/readyz"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path).status, 200)

    def test_metrics_count_jobs_by_queue_and_status(self):
        tag = uid("metrics")
        done = [submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id="%s-%d" % (tag, i),
                                                            queue="metrics"))["id"] for i in range(3)]
        for job_id in done:
            self.assertEqual(wait_job(self.server, job_id)["status"], "done")
        waiting = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=tag + "-q",
                                                              queue="metrics", run_in="1h"))["id"]
        canceled = submit_ok(self.server, harness.classify_job(CLEAR_TICKET, object_id=tag + "-c",
                                                               queue="metrics", run_in="1h"))["id"]
        self.assertEqual(self.post("/v1/jobs/%s/cancel" % canceled).status, 200)
        self.assertEqual(self.job(waiting)["status"], "queued")

        m = self.server.metrics()
        got = {s: harness.metric_sum(m, "sluice_jobs", queue="metrics", status=s)
               for s in ("queued", "running", "done", "failed", "canceled")}
        self.assertEqual(got, {"queued": 1, "running": 0, "done": 3, "failed": 0, "canceled": 1})
        # The same counts as the list API.
        for status in ("queued", "done", "canceled"):
            self.assertEqual(got[status], len(self.list_all(queue="metrics", status=status)[0]), status)
        # Other queues have their own series.
        listed_default_done = len(self.list_all(queue="urgent", status="done")[0])
        self.assertEqual(harness.metric_sum(m, "sluice_jobs", queue="urgent", status="done") or 0,
                         listed_default_done)



class ReviewApiTest(harness.IntegrationTest):
    """POST /v1/jobs/{id}/review on jobs a scripted mock sent to review: its first answers are
    schema-invalid, and with max_attempts 1 each such job waits in review after one attempt."""

    TICKET = "I was charged twice for the same purchase"   # answered done, confidently, when ok
    HUMAN = {"category": "fraud", "urgent": True, "confidence": 1.0,
             "summary": "A reviewer says the double charge is fraud."}

    def setUp(self):
        super().setUp()
        self.mock = self.start_mock(latency="20ms")
        providers = [{"name": "mock", "base_url": self.mock.base_url, "timeout": "10s",
                      "max_concurrency": 256}]
        self.server = self.start_server(mock=self.mock, providers=providers)

    def in_review(self, count):
        """`count` jobs that wait in review, one schema-invalid answer each; the mock answers ok
        afterwards."""
        self.assertTrue(self.mock.configure({"script": "garbage_content*%d" % count})["script"])
        jobs = [submit_ok(self.server, harness.classify_job(self.TICKET, max_attempts=1))
                for _ in range(count)]
        waited = [wait_job(self.server, job["id"], timeout=20) for job in jobs]
        for job in waited:
            self.assertEqual(job["status"], "review", job)
            self.assertEqual(job["error"]["code"], "schema_invalid", job)
        return waited

    def review(self, job_id, body):
        return request("POST", self.server.url + "/v1/jobs/%s/review" % job_id, json=body)

    def event_types(self, job_id):
        r = request("GET", self.server.url + "/v1/jobs/%s/events" % job_id)
        self.assertEqual(r.status, 200, r)
        return [e["type"] for e in r.body["data"]]

    def assert_error(self, r, status, field=None):
        self.assertEqual(r.status, status, r)
        self.assertIsInstance(r.body.get("error"), dict, r)
        if field is not None:
            self.assertEqual(r.body["error"].get("field"), field, r)

    def test_approve_reject_and_retry(self):
        approve, reject, retry = self.in_review(3)
        self.assertEqual(self.mock.stats()["requests"], 3)

        # approve: done, with the reviewer's output as a human result
        r = self.review(approve["id"], {"action": "approve", "output": self.HUMAN})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["status"], "done", r)
        self.assertIsNone(r.body["error"], r)
        result = harness.get_result(self.server, approve["id"])
        self.assertEqual(result["output"], self.HUMAN, result)
        self.assertEqual(json.loads(result["text"]), self.HUMAN, result)
        self.assertEqual(result["provider"], "human", result)
        self.assertIn(result["model"], (None, "human"), result)
        self.assertIs(result["reviewed"], True, result)
        self.assertEqual(result["prompt_version"], "v2", result)
        self.assertEqual(result["response_schema"], "ticket_class_v1", result)
        self.assertAlmostEqual(result["cost_usd"], approve["cost_usd"], result)
        self.assertEqual(self.job_body(approve["id"])["status"], "done")
        self.assertEqual(self.event_types(approve["id"])[-1], "review_approved")

        # reject: failed, with the reason
        r = self.review(reject["id"], {"action": "reject", "reason": "not a real ticket"})
        self.assertEqual(r.status, 200, r)
        failed = self.job_body(reject["id"])
        self.assertEqual(failed["status"], "failed", failed)
        self.assertEqual(failed["error"]["code"], "rejected", failed)
        self.assertEqual(failed["error"]["message"], "not a real ticket", failed)
        self.assertEqual(self.event_types(reject["id"])[-1], "review_rejected")

        # retry on another model: the mock answers ok now, so the new attempt ends done
        r = self.review(retry["id"], {"action": "retry", "model": "strong"})
        self.assertEqual(r.status, 200, r)
        self.assertIn(r.body["status"], ("queued", "running", "done"), r)
        done = wait_job(self.server, retry["id"], timeout=20)
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(done["attempt"], 2, done)
        self.assertEqual(done["model"], "strong", done)
        result = harness.get_result(self.server, retry["id"])
        self.assertEqual(result["model_alias"], "strong", result)
        self.assertEqual(result["output"]["category"], "double_charge", result)
        self.assertEqual([a["outcome"] for a in result["attempts"]][-1], "ok", result["attempts"])
        self.assertIn("review_retry", self.event_types(retry["id"]))

        # a decision on a job no longer in review is refused, and changes nothing
        r = self.review(approve["id"], {"action": "approve", "output": self.HUMAN})
        self.assert_error(r, 409)
        r = self.review(reject["id"], {"action": "retry"})
        self.assert_error(r, 409)
        self.assertEqual(self.job_body(reject["id"])["status"], "failed")
        self.assert_error(self.review("job_unknown", {"action": "reject"}), 404)

    def test_bad_decisions_are_refused_and_leave_the_job_in_review(self):
        (job,) = self.in_review(1)
        bad = [
            ({"action": "bless"}, "action"),
            ({}, "action"),
            ({"action": 3}, "action"),
            ({"action": "approve"}, "output"),
            ({"action": "approve", "output": {"category": "weather"}}, "output"),
            ({"action": "retry", "model": "no_such_alias"}, "model"),
            ({"action": "reject", "reason": 7}, "reason"),
        ]
        for body, field in bad:
            self.assert_error(self.review(job["id"], body), 400, field)
        r = request("POST", self.server.url + "/v1/jobs/%s/review" % job["id"], data="[1,",
                    headers={"Content-Type": "application/json"})
        self.assert_error(r, 400)
        self.assertEqual(self.job_body(job["id"])["status"], "review")
        self.assertNotIn("review_approved", self.event_types(job["id"]))

    def job_body(self, job_id):
        r = request("GET", self.server.url + "/v1/jobs/" + job_id)
        self.assertEqual(r.status, 200, r)
        return r.body


if __name__ == "__main__":
    unittest.main()
