"""The Files and Batch API end to end, driven by the official OpenAI Node client (npm package
`openai`, pinned in openai_client/package.json) against real `sluice serve` and `sluice mock-llm`
processes: upload, create, poll until done, read the output and error files matched by
custom_id; line-level errors; a file that is no batch at all; cancel mid-way; expiry at the end
of the completion window; a Sluice /v1/jobs batch; list pagination; bad requests.

API.md "Files and batches"; ARCHITECTURE.md "Files and batches" for the decisions.
"""

import json
import os
import shutil
import subprocess
import unittest
from pathlib import Path

import harness
from harness import wait_until

CLIENT_DIR = Path(__file__).resolve().parent / "openai_client"
CHAT = "/v1/chat/completions"


def ensure_client_installed():
    """npm ci once (node_modules is not committed); skips the suite when node is missing."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise unittest.SkipTest("node and npm are needed (scripts/install-deps.sh installs them)")
    if (CLIENT_DIR / "node_modules" / "openai" / "package.json").exists():
        return
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=CLIENT_DIR, check=True,
                   timeout=240)


class Sdk:
    """The OpenAI Node client pointed at one server: sdk("batches.create", {...}) -> its JSON."""

    def __init__(self, server):
        self.env = dict(os.environ, OPENAI_BASE_URL=server.url + "/v1", OPENAI_API_KEY="sluice-test")

    def __call__(self, operation, args=None, timeout=120):
        done = subprocess.run(["node", "sdk.mjs", operation, json.dumps(args or {})], cwd=CLIENT_DIR,
                              env=self.env, capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise AssertionError("node sdk.mjs %s failed: %s" % (operation, done.stderr[-2000:]))
        return json.loads(done.stdout)


def chat_line(custom_id, content="Hello", model="fast", **body):
    body = dict({"model": model, "messages": [{"role": "user", "content": content}]}, **body)
    return {"custom_id": custom_id, "method": "POST", "url": CHAT, "body": body}


def jsonl(lines):
    return "".join((l if isinstance(l, str) else json.dumps(l)) + "\n" for l in lines)


def by_custom_id(text):
    lines = [json.loads(l) for l in text.splitlines() if l.strip()]
    out = {l["custom_id"]: l for l in lines}
    assert len(out) == len(lines), "a custom_id appears twice in %r" % text[:500]
    return out


class BatchTestBase(harness.SharedProcessesTest):
    mock_latency = "5ms"
    queues = None

    @classmethod
    def start_class_processes(cls):
        ensure_client_installed()
        cls.mock = cls.start_class_proc(harness.MockLlm(latency=cls.mock_latency, tmp_dir=cls.class_tmp))
        cls.server = cls.start_class_proc(harness.Server(mock=cls.mock, queues=cls.queues, tmp_dir=cls.class_tmp))
        cls.sdk = Sdk(cls.server)

    def upload(self, lines, name="input.jsonl"):
        path = self.tmp_dir / name
        path.write_text(jsonl(lines), encoding="utf-8")
        file = self.sdk("files.create", {"path": str(path)})
        self.assertNotIn("api_error", file, file)
        return file

    def create(self, lines, endpoint=CHAT, window="24h", **extra):
        file = self.upload(lines)
        batch = self.sdk("batches.create", dict({"input_file_id": file["id"], "endpoint": endpoint,
                                                 "completion_window": window}, **extra))
        self.assertNotIn("api_error", batch, batch)
        return batch

    def wait(self, batch_id, statuses=("completed", "failed", "expired", "cancelled"), timeout_ms=60_000, **kw):
        batch = self.sdk("batches.wait", dict({"id": batch_id, "statuses": list(statuses), "timeout_ms": timeout_ms},
                                              **kw))
        self.assertNotIn("timed_out", batch, "batch %s did not get there: %r" % (batch_id, batch))
        return batch

    def content(self, file_id):
        if file_id is None:
            return {}
        return by_custom_id(self.sdk("files.content", {"id": file_id})["text"])


class BatchLifecycleTest(BatchTestBase):
    def test_a_chat_batch_runs_to_completed_with_its_output_matched_by_custom_id(self):
        lines = [chat_line("request-%d" % i, "Say hello number %d" % i) for i in range(12)]
        batch = self.create(lines, metadata={"project": "it"})
        self.assertEqual(batch["object"], "batch")
        self.assertTrue(batch["id"].startswith("batch_"))
        self.assertEqual(batch["status"], "validating")
        self.assertEqual(batch["endpoint"], CHAT)
        self.assertEqual(batch["metadata"], {"project": "it"})
        self.assertIsInstance(batch["created_at"], int)
        self.assertEqual(batch["expires_at"] - batch["created_at"], 24 * 3600)

        done = self.wait(batch["id"])
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(done["request_counts"], {"total": 12, "completed": 12, "failed": 0})
        for key in ("in_progress_at", "finalizing_at", "completed_at"):
            self.assertIsInstance(done[key], int, key)
        self.assertLessEqual(done["created_at"], done["in_progress_at"])
        self.assertLessEqual(done["in_progress_at"], done["completed_at"])
        self.assertIsNone(done["error_file_id"])  # nothing failed: no error file

        output_file = self.sdk("files.retrieve", {"id": done["output_file_id"]})
        self.assertEqual(output_file["purpose"], "batch_output")
        output = self.content(done["output_file_id"])
        self.assertEqual(set(output), {"request-%d" % i for i in range(12)})
        for custom_id, line in output.items():
            self.assertTrue(line["id"].startswith("batch_req_"))
            self.assertIsNone(line["error"])
            response = line["response"]
            self.assertEqual(response["status_code"], 200)
            self.assertTrue(response["request_id"].startswith("job_"))
            body = response["body"]
            self.assertEqual(body["object"], "chat.completion")
            self.assertEqual(body["model"], "gpt-4o-mini")
            self.assertEqual(body["choices"][0]["message"]["role"], "assistant")
            self.assertTrue(body["choices"][0]["message"]["content"])
            self.assertGreater(body["usage"]["total_tokens"], 0)
            # The request id is the job that ran it: the job API tells the same story.
            job = self.server.api.get("/v1/jobs/" + response["request_id"]).body
            self.assertEqual(job["status"], "done")
            self.assertEqual(job["queue"], "batch")
            self.assertEqual(job["metadata"], {"batch_id": batch["id"], "custom_id": custom_id})
        self.assertEqual(output_file["bytes"], len(self.sdk("files.content", {"id": done["output_file_id"]})["text"]
                                                   .encode("utf-8")))

    def test_invalid_requests_go_to_the_error_file_and_the_rest_run(self):
        lines = [chat_line("good-1"), chat_line("bad-model", model="no-such-alias"),
                 {"custom_id": "no-messages", "method": "POST", "url": CHAT, "body": {"model": "fast"}},
                 {"custom_id": "not-an-object", "method": "POST", "url": CHAT, "body": [1, 2]},
                 chat_line("good-2")]
        done = self.wait(self.create(lines)["id"])
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(done["request_counts"], {"total": 5, "completed": 2, "failed": 3})
        self.assertEqual(set(self.content(done["output_file_id"])), {"good-1", "good-2"})
        errors = self.content(done["error_file_id"])
        self.assertEqual(set(errors), {"bad-model", "no-messages", "not-an-object"})
        for custom_id, line in errors.items():
            self.assertEqual(line["response"]["status_code"], 400, line)
            self.assertIn("message", line["response"]["body"]["error"])
        self.assertEqual(errors["bad-model"]["response"]["body"]["error"]["field"], "body.model")
        self.assertEqual(errors["no-messages"]["response"]["body"]["error"]["field"], "body.messages")

    def test_lines_may_name_the_provider_model_an_alias_calls(self):
        # What OpenAI batch files say: the provider's model, not a Sluice alias.
        lines = [chat_line("mini", model="gpt-4o-mini"), chat_line("big", model="gpt-4o")]
        done = self.wait(self.create(lines)["id"])
        self.assertEqual(done["request_counts"], {"total": 2, "completed": 2, "failed": 0}, done)
        output = self.content(done["output_file_id"])
        for custom_id, alias in (("mini", "fast"), ("big", "strong")):
            job = self.server.api.get("/v1/jobs/" + output[custom_id]["response"]["request_id"]).body
            result = self.server.api.get("/v1/jobs/%s/result" % job["id"]).body
            self.assertEqual([a["model_alias"] for a in result["attempts"]], [alias], result)

    def test_a_file_that_is_no_batch_fails_with_its_errors_and_runs_nothing(self):
        lines = [chat_line("a"), "{this is not json", chat_line("a"),
                 {"custom_id": "e", "method": "POST", "url": "/v1/embeddings", "body": {}}]
        failed = self.wait(self.create(lines)["id"])
        self.assertEqual(failed["status"], "failed", failed)
        self.assertIsInstance(failed["failed_at"], int)
        self.assertIsNone(failed["output_file_id"])
        self.assertIsNone(failed["error_file_id"])
        errors = {(e["code"], e["line"]) for e in failed["errors"]["data"]}
        self.assertEqual(errors, {("invalid_json_line", 2), ("duplicate_custom_id", 3), ("invalid_url", 4)})
        jobs = self.server.api.get("/v1/jobs?limit=1000").body["data"]
        self.assertFalse([j for j in jobs if j["metadata"].get("batch_id") == failed["id"]])

    def test_a_jobs_batch_runs_task_types_with_the_job_apis_rules(self):
        lines = [{"custom_id": "t-%d" % i, "method": "POST", "url": "/v1/jobs",
                  "body": {"type": "classify_ticket", "input": {"text": text}, "object_id": "ticket-%d" % i}}
                 for i, text in enumerate(["I was charged twice for one purchase",
                                           "My card was stolen, block it now"])]
        lines.append({"custom_id": "t-bad", "method": "POST", "url": "/v1/jobs",
                      "body": {"type": "no_such_task", "input": {"text": "x"}}})
        done = self.wait(self.create(lines, endpoint="/v1/jobs")["id"])
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(done["request_counts"], {"total": 3, "completed": 2, "failed": 1})
        output = self.content(done["output_file_id"])
        self.assertEqual(set(output), {"t-0", "t-1"})
        for line in output.values():
            record = line["response"]["body"]
            self.assertEqual(record["job_id"], line["response"]["request_id"])
            self.assertIn("category", record["output"])
            self.assertEqual(record["prompt_version"], "v2")
            job = self.server.api.get("/v1/jobs/" + record["job_id"]).body
            self.assertEqual(job["type"], "classify_ticket")
            self.assertEqual(job["queue"], "batch")  # a /v1/jobs line's queue defaults to batch
        error = self.content(done["error_file_id"])["t-bad"]
        self.assertEqual(error["response"]["status_code"], 400)
        self.assertEqual(error["response"]["body"]["error"]["field"], "body.type")

    def test_a_jobs_batch_line_with_an_unparseable_time_field_fails_naming_it(self):
        # Batch lines go through the job parser: an empty duration is an error, not "no deadline".
        bad = {"e-deadline_in": {"deadline_in": ""}, "e-run_in": {"run_in": ""},
               "e-deadline": {"deadline": ""}, "e-run_at": {"run_at": 5}}
        lines = [{"custom_id": "ok", "method": "POST", "url": "/v1/jobs",
                  "body": {"type": "classify_ticket", "input": {"text": "I was charged twice"}}}]
        for custom_id, fields in bad.items():
            body = {"type": "classify_ticket", "input": {"text": "I was charged twice"}}
            body.update(fields)
            lines.append({"custom_id": custom_id, "method": "POST", "url": "/v1/jobs", "body": body})
        done = self.wait(self.create(lines, endpoint="/v1/jobs")["id"])
        self.assertEqual(done["request_counts"], {"total": 5, "completed": 1, "failed": 4}, done)
        errors = self.content(done["error_file_id"])
        self.assertEqual(set(errors), set(bad))
        for custom_id, fields in bad.items():
            error = errors[custom_id]["response"]
            self.assertEqual(error["status_code"], 400, error)
            self.assertEqual(error["body"]["error"]["field"], "body." + next(iter(fields)), error)

    def test_the_same_custom_ids_in_another_batch_run_again(self):
        lines = [chat_line("request-1", "first"), chat_line("request-2", "second")]
        first = self.wait(self.create(lines)["id"])
        second = self.wait(self.create(lines)["id"])
        self.assertEqual(first["request_counts"]["completed"], 2)
        self.assertEqual(second["request_counts"]["completed"], 2)
        ids_first = {l["response"]["request_id"] for l in self.content(first["output_file_id"]).values()}
        ids_second = {l["response"]["request_id"] for l in self.content(second["output_file_id"]).values()}
        self.assertFalse(ids_first & ids_second, "the second batch reused the first one's jobs")

    def test_list_pages_through_every_batch_newest_first(self):
        created = [self.create([chat_line("r")])["id"] for _ in range(3)]
        everything = self.sdk("batches.list_all", {"limit": 2})["ids"]
        self.assertEqual(len(everything), len(set(everything)))
        self.assertEqual([i for i in everything if i in created], list(reversed(created)))
        self.assertEqual(everything, sorted(everything, reverse=True))
        first = self.sdk("batches.list", {"limit": 2})
        self.assertEqual(first["ids"], everything[:2])
        self.assertTrue(first["has_more"])
        raw = self.server.api.get("/v1/batches?limit=2&after=" + everything[1]).body
        self.assertEqual(raw["object"], "list")
        self.assertEqual(raw["first_id"], everything[2])
        self.assertEqual([b["id"] for b in raw["data"]], everything[2:4])
        self.assertEqual(raw["last_id"], raw["data"][-1]["id"])
        self.assertEqual(raw["has_more"], len(everything) > 4)
        last = self.server.api.get("/v1/batches?limit=100&after=" + everything[-1]).body
        self.assertEqual(last["data"], [])
        self.assertIsNone(last["first_id"])
        self.assertFalse(last["has_more"])

    def test_bad_requests_answer_4xx_and_create_nothing(self):
        path = self.tmp_dir / "in.jsonl"
        path.write_text(jsonl([chat_line("a")]), encoding="utf-8")
        wrong_purpose = self.sdk("files.create", {"path": str(path), "purpose": "fine-tune"})
        self.assertEqual(wrong_purpose["api_error"]["status"], 400)
        self.assertEqual(wrong_purpose["api_error"]["field"], "purpose")

        file = self.upload([chat_line("a")])
        bad = {
            "unknown file": ({"input_file_id": "file_nope", "endpoint": CHAT, "completion_window": "24h"}, 404),
            "wrong endpoint": ({"input_file_id": file["id"], "endpoint": "/v1/embeddings", "completion_window": "24h"},
                               400),
            "bad window": ({"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "soon"}, 400),
            "window too long": ({"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "30d"}, 400),
            "bad metadata": ({"input_file_id": file["id"], "endpoint": CHAT, "completion_window": "24h",
                              "metadata": {"k": 1}}, 400),
        }
        before = self.server.api.get("/v1/batches?limit=100").body["data"]
        for name, (args, status) in bad.items():
            answer = self.sdk("batches.create", args)
            self.assertIn("api_error", answer, name)
            self.assertEqual(answer["api_error"]["status"], status, (name, answer))
        # An output file is no batch input.
        done = self.wait(self.create([chat_line("x")])["id"])
        as_input = self.sdk("batches.create", {"input_file_id": done["output_file_id"], "endpoint": CHAT,
                                               "completion_window": "24h"})
        self.assertEqual(as_input["api_error"]["status"], 400)
        self.assertEqual(as_input["api_error"]["field"], "input_file_id")
        after = self.server.api.get("/v1/batches?limit=100").body["data"]
        self.assertEqual(len(after), len(before) + 1)  # only the good batch above

        # Raw HTTP for what the SDK never sends wrong.
        body, ctype = harness.multipart(fields={"purpose": "batch"})
        r = self.server.api.request("POST", "/v1/files", data=body, headers={"Content-Type": ctype})
        self.assertEqual((r.status, r.body["error"]["field"]), (400, "file"), r)
        body, ctype = harness.multipart(files={"file": ("a.jsonl", jsonl([chat_line("a")]), "application/jsonl")})
        r = self.server.api.request("POST", "/v1/files", data=body, headers={"Content-Type": ctype})
        self.assertEqual((r.status, r.body["error"]["field"]), (400, "purpose"), r)
        r = self.server.api.request("POST", "/v1/files", data=b"{}", headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 415, r)
        r = self.server.api.request("POST", "/v1/files", data=b"--x\r\nbroken",
                                    headers={"Content-Type": "multipart/form-data; boundary=x"})
        self.assertEqual(r.status, 400, r)
        self.assertEqual(self.server.api.get("/v1/files/file_nope").status, 404)
        self.assertEqual(self.server.api.get("/v1/files/file_nope/content").status, 404)
        self.assertEqual(self.server.api.get("/v1/batches/batch_nope").status, 404)
        self.assertEqual(self.server.api.post("/v1/batches/batch_nope/cancel").status, 404)
        self.assertEqual(self.server.api.get("/v1/batches?limit=0").status, 400)
        # A finished batch cannot be cancelled.
        self.assertEqual(self.server.api.post("/v1/batches/%s/cancel" % done["id"]).status, 409)


class BatchCancelTest(BatchTestBase):
    mock_latency = "300ms"
    queues = [{"name": "batch", "max_concurrency": 2}]

    def test_cancel_mid_way_keeps_finished_results_and_cancels_the_rest(self):
        lines = [chat_line("c-%d" % i) for i in range(40)]
        batch = self.create(lines)
        # Some requests have finished, most are still queued behind the batch queue's 2 slots.
        self.wait(batch["id"], statuses=[], completed_at_least=2)
        cancelling = self.sdk("batches.cancel", {"id": batch["id"]})
        self.assertIn(cancelling["status"], ("cancelling", "cancelled"), cancelling)
        self.assertIsInstance(cancelling["cancelling_at"], int)
        cancelled = self.wait(batch["id"])
        self.assertEqual(cancelled["status"], "cancelled", cancelled)
        self.assertIsInstance(cancelled["cancelled_at"], int)
        counts = cancelled["request_counts"]
        self.assertEqual(counts["total"], 40)
        self.assertGreaterEqual(counts["completed"], 2)
        self.assertGreater(counts["failed"], 0)
        self.assertEqual(counts["completed"] + counts["failed"], 40)
        output = self.content(cancelled["output_file_id"])
        errors = self.content(cancelled["error_file_id"])
        self.assertEqual(set(output) | set(errors), {"c-%d" % i for i in range(40)})
        self.assertEqual(len(output), counts["completed"])
        for line in output.values():
            self.assertEqual(line["response"]["status_code"], 200)
        for line in errors.values():
            self.assertIsNone(line["response"])
            self.assertEqual(line["error"]["code"], "batch_cancelled")
        # Cancelling again answers the batch as it is.
        again = self.sdk("batches.cancel", {"id": batch["id"]})
        self.assertEqual(again["status"], "cancelled")


class BatchExpiryTest(BatchTestBase):
    mock_latency = "400ms"
    queues = [{"name": "batch", "max_concurrency": 1}]

    def test_a_batch_past_its_completion_window_expires_with_the_results_it_has(self):
        lines = [chat_line("x-%d" % i) for i in range(30)]
        batch = self.create(lines, window="2s")
        self.assertEqual(batch["expires_at"] - batch["created_at"], 2)
        expired = self.wait(batch["id"])
        self.assertEqual(expired["status"], "expired", expired)
        self.assertIsInstance(expired["expired_at"], int)
        counts = expired["request_counts"]
        self.assertEqual(counts["total"], 30)
        self.assertEqual(counts["completed"] + counts["failed"], 30)
        self.assertGreater(counts["failed"], 0)
        output = self.content(expired["output_file_id"])
        errors = self.content(expired["error_file_id"])
        self.assertEqual(set(output) | set(errors), {"x-%d" % i for i in range(30)})
        for line in output.values():
            self.assertEqual(line["response"]["status_code"], 200)
        for line in errors.values():
            self.assertIsNone(line["response"])
            self.assertEqual(line["error"]["code"], "batch_expired")


if __name__ == "__main__":
    unittest.main()
