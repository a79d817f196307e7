"""Integration tests of request validation (API.md "Errors", "Submit"): every bad submission
answers the right 4xx with the field at fault, stores nothing, and never crashes the server or
answers 500.

One server (with max_body 64KiB) serves the whole class; every case compares the number of
stored jobs before and after, so the cases do not depend on each other or on their order.

Run: SLUICE_BIN=build/sluice SLUICE_TASKS_DIR=tasks python3 -m unittest -v test_api_validation
"""

import copy
import hashlib
import json
import re
import socket
import unittest
import uuid

import harness
from harness import request

MAX_BODY = 64 * 1024
ANY = object()   # "some field, or none": the contract names no single field for this case


def ticket(**fields):
    body = {"type": "classify_ticket", "input": {"text": "I was charged twice for one purchase."}}
    body.update(fields)
    return body


def chat(**fields):
    body = {"type": "chat", "request": {"model": "fast", "messages": [{"role": "user", "content": "Hello"}]}}
    body.update(fields)
    return body


def without(body, key):
    body = copy.deepcopy(body)
    body.pop(key)
    return body


# (name, job body, expected error.field). Every one answers 400. A tuple of fields: any of them
# (the contract leaves the choice open, but it must be one of the fields involved).
BAD_JOBS = [
    ("body is an array", [ticket()], ANY),
    ("body is a string", "classify_ticket", ANY),
    ("body is null", None, ANY),
    ("missing type", without(ticket(), "type"), "type"),
    ("type not a string", ticket(type=7), "type"),
    ("unknown type", ticket(type="no_such_task"), "type"),
    ("unknown field", ticket(colour="blue"), "colour"),
    ("the text beside the type", ticket(text="charged twice"), "text"),
    ("missing input", without(ticket(), "input"), "input"),
    ("input not an object", ticket(input="charged twice"), "input"),
    ("input.text not a string", ticket(input={"text": 42}), "input.text"),
    ("input.text empty", ticket(input={"text": ""}), "input.text"),
    ("input with neither text nor blob", ticket(input={}), "input"),
    ("input with both text and blob", "BOTH", ("input", "input.text", "input.blob")),
    ("bad blob id", ticket(input={"blob": "md5:abc"}), "input.blob"),
    ("blob id not a string", ticket(input={"blob": 12}), "input.blob"),
    ("priority -1", ticket(priority=-1), "priority"),
    ("priority 10", ticket(priority=10), "priority"),
    ("priority not a number", ticket(priority="high"), "priority"),
    ("max_attempts 0", ticket(max_attempts=0), "max_attempts"),
    ("deadline in the past", ticket(deadline="2000-01-01T00:00:00Z"), "deadline"),
    ("deadline malformed", ticket(deadline="tomorrow noon"), "deadline"),
    ("deadline and deadline_in both", ticket(deadline="2999-01-01T00:00:00Z", deadline_in="30s"),
     ("deadline", "deadline_in")),
    ("deadline_in not a duration", ticket(deadline_in="soon"), "deadline_in"),
    ("deadline on a day its month lacks", ticket(deadline="2999-02-30T00:00:00Z"), "deadline"),
    ("deadline with an offset over 23 hours", ticket(deadline="2999-01-01T00:00:00+25:00"), "deadline"),
    ("run_at malformed", ticket(run_at="next tuesday"), "run_at"),
    ("run_at on a day its month lacks", ticket(run_at="2999-04-31T00:00:00Z"), "run_at"),
    ("run_in not a duration", ticket(run_in="later"), "run_in"),
    ("deadline_in empty", ticket(deadline_in=""), "deadline_in"),
    ("run_in empty", ticket(run_in=""), "run_in"),
    ("deadline empty", ticket(deadline=""), "deadline"),
    ("run_at empty", ticket(run_at=""), "run_at"),
    ("deadline_in negative", ticket(deadline_in="-30s"), "deadline_in"),
    ("deadline_in a number", ticket(deadline_in=30), "deadline_in"),
    ("run_in a number", ticket(run_in=3600), "run_in"),
    ("run_at a number", ticket(run_at=1893456000), "run_at"),
    ("unknown queue", ticket(queue="no_such_queue"), "queue"),
    ("unknown model alias", ticket(model="no_such_model"), "model"),
    ("unknown prompt_version", ticket(prompt_version="v99"), "prompt_version"),
    ("params not an object", ticket(params=[1, 2]), "params"),
    ("reserved param messages", ticket(params={"messages": []}), "params.messages"),
    ("metadata not an object", ticket(metadata="acme"), "metadata"),
    ("metadata over 16 KiB", ticket(metadata={"note": "x" * (17 * 1024)}), "metadata"),
    ("cost_limit_usd -1", ticket(cost_limit_usd=-1), "cost_limit_usd"),
    ("cost_limit_usd not a number", ticket(cost_limit_usd="cheap"), "cost_limit_usd"),
    ("object_id not a string", ticket(object_id=84521), "object_id"),
    ("chat without request", without(chat(), "request"), "request"),
    ("chat request not an object", chat(request="Hello"), "request"),
    ("chat request without messages", chat(request={"model": "fast"}), "request.messages"),
    ("chat request with empty messages", chat(request={"model": "fast", "messages": []}), "request.messages"),
    ("chat request with an unknown model alias",
     chat(request={"model": "no_such_model", "messages": [{"role": "user", "content": "Hello"}]}), "request.model"),
    ("chat request model not a string",
     chat(request={"model": 5, "messages": [{"role": "user", "content": "Hello"}]}), "request.model"),
    ("chat pinned to an unknown model alias", chat(model="no_such_model"), "model"),
]


class ValidationTest(harness.SharedProcessesTest):
    @classmethod
    def start_class_processes(cls):
        cls.mock = cls.start_class_proc(harness.MockLlm(latency="10ms", tmp_dir=cls.class_tmp))
        cls.server = cls.start_class_proc(
            harness.Server(mock=cls.mock, tmp_dir=cls.class_tmp, server={"max_body": "64KiB"}))
        content = ("a stored ticket " + uuid.uuid4().hex).encode()
        r = request("POST", cls.server.url + "/v1/blobs", data=content,
                    headers={"Content-Type": "text/plain"})
        if r.status not in (200, 201):
            raise AssertionError("POST /v1/blobs answered %r" % (r,))
        cls.blob_id = r.body["id"]
        assert cls.blob_id == "sha256:" + hashlib.sha256(content).hexdigest(), r

    def setUp(self):
        super().setUp()
        self.statuses = []                      # every status this test saw from the server

    def tearDown(self):
        # After every test: the server is up and never answered 500.
        self.assertTrue(self.server.alive(), "the server process died")
        self.assertEqual(self.call("GET", "/healthz").status, 200)
        self.assertEqual([s for s in self.statuses if s >= 500], [], "the server answered 5xx")
        super().tearDown()

    # -- helpers ------------------------------------------------------------------------------
    def call(self, method, path, **kw):
        r = request(method, self.server.url + path, **kw)
        self.statuses.append(r.status)
        return r

    def body_for(self, spec):
        if spec == "BOTH":
            return ticket(input={"text": "charged twice", "blob": self.blob_id})
        return spec

    def stored_jobs(self):
        r = self.call("GET", "/v1/jobs?limit=1000")
        self.assertEqual(r.status, 200, r)
        self.assertIsNone(r.body.get("next"), "more than 1000 jobs: the count would be wrong")
        return len(r.body["data"])

    def assert_error(self, r, status, field=ANY, code=None):
        self.assertEqual(r.status, status, r)
        self.assertIsInstance(r.body, dict, r)
        err = r.body.get("error")
        self.assertIsInstance(err, dict, r)
        self.assertIsInstance(err.get("code"), str, r)
        self.assertRegex(err["code"], r"^[a-z][a-z0-9_]*$")
        self.assertIsInstance(err.get("message"), str, r)
        self.assertTrue(err["message"].strip(), r)
        if code is not None:
            self.assertEqual(err["code"], code, r)
        if field is not ANY:
            allowed = field if isinstance(field, tuple) else (field,)
            self.assertIn(err.get("field"), allowed, r)

    def post_raw(self, path, data, content_type="application/json"):
        return self.call("POST", path, data=data, headers={"Content-Type": content_type})

    # -- the table ----------------------------------------------------------------------------
    def test_the_base_bodies_are_valid(self):
        # The table's cases break one thing each in these; they must pass as they are.
        before = self.stored_jobs()
        for body in (ticket(), chat()):
            r = self.call("POST", "/v1/jobs", json=body)
            self.assertEqual(r.status, 202, r)
        r = self.call("POST", "/v1/jobs", json=ticket(input={"blob": self.blob_id}))
        self.assertEqual(r.status, 202, r)
        self.assertEqual(self.stored_jobs(), before + 3)

    def test_bad_jobs_answer_400_with_the_field_and_store_nothing(self):
        for name, spec, field in BAD_JOBS:
            with self.subTest(name):
                before = self.stored_jobs()
                r = self.call("POST", "/v1/jobs", data=json.dumps(self.body_for(spec)),
                              headers={"Content-Type": "application/json"})
                self.assert_error(r, 400, field)
                self.assertEqual(self.stored_jobs(), before, "a refused job was stored")

    def test_bad_jobs_in_bulk_get_their_own_errors(self):
        specs = [(name, spec, field) for name, spec, field in BAD_JOBS]
        items = [self.body_for(spec) for _, spec, _ in specs]
        before = self.stored_jobs()
        r = self.call("POST", "/v1/jobs/bulk", json={"jobs": items}, timeout=30)
        self.assertEqual(r.status, 200, r)
        answers = r.body["jobs"]
        self.assertEqual(len(answers), len(items))
        for (name, _, field), answer in zip(specs, answers):
            with self.subTest(name):
                self.assertIn("error", answer, answer)
                self.assertNotIn("id", answer)
                self.assertRegex(answer["error"].get("code", ""), r"^[a-z][a-z0-9_]*$")
                if field is not ANY:
                    allowed = field if isinstance(field, tuple) else (field,)
                    self.assertIn(answer["error"].get("field"), allowed, answer)
        self.assertEqual(self.stored_jobs(), before)

    # -- bodies that are not jobs at all ----------------------------------------------------------
    def test_not_json_is_400_invalid_json(self):
        for body in ('{"type": "classify_ticket", ', "not json at all", "", '{"a": 1} trailing'):
            with self.subTest(body=body):
                before = self.stored_jobs()
                self.assert_error(self.post_raw("/v1/jobs", body), 400, code="invalid_json")
                self.assertEqual(self.stored_jobs(), before)

    def test_invalid_utf8_is_refused(self):
        before = self.stored_jobs()
        body = b'{"type": "classify_ticket", "input": {"text": "\xff\xfe charged"}}'
        r = self.post_raw("/v1/jobs", body)
        self.assert_error(r, 400)
        self.assertEqual(self.stored_jobs(), before)

    def test_wrong_content_type_is_415(self):
        for ctype in ("text/plain", "application/x-www-form-urlencoded"):
            with self.subTest(ctype=ctype):
                before = self.stored_jobs()
                r = self.post_raw("/v1/jobs", json.dumps(ticket()), content_type=ctype)
                self.assert_error(r, 415)
                r = self.post_raw("/v1/jobs/bulk", json.dumps({"jobs": [ticket()]}), content_type=ctype)
                self.assert_error(r, 415)
                self.assertEqual(self.stored_jobs(), before)

    def test_bulk_body_not_a_list_of_jobs(self):
        for body in ([ticket()], {"jobs": ticket()}, {"items": [ticket()]}, {}):
            with self.subTest(body=body):
                before = self.stored_jobs()
                self.assert_error(self.call("POST", "/v1/jobs/bulk", json=body), 400)
                self.assertEqual(self.stored_jobs(), before)

    def test_bad_query_parameters(self):
        self.assert_error(self.call("POST", "/v1/jobs?wait=soon", json=ticket()), 400, "wait")
        self.assert_error(self.call("GET", "/v1/jobs?status=sleeping"), 400, "status")
        for limit in ("0", "-1", "many"):
            with self.subTest(limit=limit):
                self.assert_error(self.call("GET", "/v1/jobs?limit=" + limit), 400, "limit")

    # -- sizes ------------------------------------------------------------------------------------
    def test_body_over_max_body_is_413(self):
        before = self.stored_jobs()
        big = json.dumps(ticket(input={"text": "charged twice " * (MAX_BODY // 10)})).encode()
        self.assertGreater(len(big), MAX_BODY)
        r = self.post_raw("/v1/jobs", big)
        self.assert_error(r, 413)
        self.assertEqual(self.stored_jobs(), before)

    def test_chunked_body_over_max_body_is_413(self):
        # The limit holds for chunked bodies too, where no Content-Length announces the size.
        before = self.stored_jobs()
        payload = json.dumps(ticket(input={"text": "charged twice " * (MAX_BODY // 10)})).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(payload[i:i + 8192]), payload[i:i + 8192])
                          for i in range(0, len(payload), 8192)) + b"0\r\n\r\n"
        head = ("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            try:
                s.sendall(head + chunks)
            except (BrokenPipeError, ConnectionResetError):
                pass   # the server may answer and close before reading it all
            answer = b""
            try:
                while True:
                    data = s.recv(65536)
                    if not data:
                        break
                    answer += data
            except ConnectionResetError:
                pass
        status_line = answer.split(b"\r\n", 1)[0].decode("latin-1")
        m = re.match(r"HTTP/1\.[01] (\d{3})", status_line)
        self.assertIsNotNone(m, answer[:200])
        self.statuses.append(int(m.group(1)))
        self.assertEqual(int(m.group(1)), 413, answer[:300])
        self.assertEqual(self.stored_jobs(), before)

    def test_a_body_just_under_max_body_is_read(self):
        # Not refused for size: the limit is the configured one, not something smaller.
        body = json.dumps(ticket(input={"text": "charged twice " * ((MAX_BODY - 2048) // 14)})).encode()
        self.assertLess(len(body), MAX_BODY)
        r = self.post_raw("/v1/jobs", body)
        self.assertEqual(r.status, 202, r)

    # -- routing ------------------------------------------------------------------------------------
    def test_unknown_path_is_404(self):
        for method, path in (("GET", "/v1/nope"), ("POST", "/v1/jobs/job_x/nope"), ("GET", "/v2/jobs"),
                             ("GET", "/v1/jobs/job_x/result/extra")):
            with self.subTest(path=path):
                self.assert_error(self.call(method, path), 404)

    def test_wrong_method_is_405(self):
        for method, path in (("DELETE", "/v1/jobs"), ("PUT", "/v1/jobs"), ("DELETE", "/v1/jobs/bulk"),
                             ("GET", "/v1/jobs/job_x/cancel"), ("POST", "/v1/models"), ("POST", "/healthz")):
            with self.subTest(method=method, path=path):
                self.assert_error(self.call(method, path), 405)


if __name__ == "__main__":
    unittest.main()
