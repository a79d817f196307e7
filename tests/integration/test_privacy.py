"""Integration test of PII masking (API.md "Privacy: PII masking") against a real `sluice serve`
and `sluice mock-llm`, which keeps every request body it was sent (GET /mock/requests).

What a provider received is searched for every checksum-valid value of the corpus (none may be
there) and every checksum-invalid lookalike (all must be: an order number is not a card). The
mock's answers echo the ticket text (its answer engine summarises what it reads), so the
result shows whether the placeholders were put back. Paths: a task version with
mask_pii = true, a chat job's "mask_pii", the Sluice-Mask-PII header on the sync path, a
tenant's mask_pii (jobs, sync calls and batch lines of its key), retries and fallback aliases.

Run: SLUICE_BIN=build/sluice SLUICE_TASKS_DIR=tasks python3 -m unittest -v test_privacy
"""

import json
import re
import unittest

import batch_http
import harness
from test_cli import run_cli
from harness import Client, get_result, request, submit_ok, wait_job

PLACEHOLDER = re.compile(r"\[(EMAIL|PHONE|CARD|IBAN|IIN)_\d+\]")

# Each valid value as people write it, in English, Russian and Kazakh text.
VALID = {
    "EMAIL": ["anna.k+bank@mail.example.kz", "ivan.petrov@yandex.ru"],
    "PHONE": ["+7 701 234 56 78", "8 (701) 234-56-78", "+77012345678"],
    "CARD": ["4111 1111 1111 1111", "4400-4301-2345-6789", "378282246310005"],
    "IBAN": ["KZ86125KZT5004100100", "GB82 WEST 1234 5698 7654 32"],
    "IIN": ["900101300126", "851205401236"],
}
# Lookalikes whose checksum fails: they must reach the provider as they are.
INVALID = ["4111 1111 1111 1112", "GB82 WEST 1234 5698 7654 33", "900101300127", "1234567890123"]

TICKETS = [
    "Hello, I was charged twice. Write to {EMAIL0} or call {PHONE0}. Card {CARD0}, order {BAD0}.",
    "Здравствуйте! Карта {CARD1} заблокирована, мой номер {PHONE1}, почта {EMAIL1}, заказ {BAD3}.",
    "Сәлеметсіз бе! ЖСН {IIN0}, шот {IBAN0}, телефон {PHONE2}. Шарт {BAD2}.",
    "Refund to {IBAN1}; IIN:{IIN1}; amex {CARD2}. Ref {BAD1}.",
]


def ticket(i):
    values = {}
    for kind, items in VALID.items():
        for n, v in enumerate(items):
            values["%s%d" % (kind, n)] = v
    for n, v in enumerate(INVALID):
        values["BAD%d" % n] = v
    return TICKETS[i].format(**values)


def all_valid():
    return [v for items in VALID.values() for v in items]


def sent_text(mock):
    """Everything the mock was sent, as one string (non-ASCII kept as it is)."""
    return json.dumps(mock.received(), ensure_ascii=False)


def bearer(key):
    return {"Authorization": "Bearer " + key}


def chat_request(content, model="fast"):
    return {"model": model, "messages": [{"role": "user", "content": content}]}


class PrivacyTest(harness.IntegrationTest):
    def assert_masked(self, sent, texts=None):
        """No valid value is in `sent`; each invalid one of `texts` (default: all) is."""
        for value in all_valid():
            self.assertNotIn(value, sent, "a valid value reached the provider")
        for value in INVALID:
            if texts is None or any(value in t for t in texts):
                self.assertIn(value, sent, "a checksum-invalid lookalike was masked")


class MaskingTest(PrivacyTest):

    def test_a_masking_task_version_sends_placeholders_and_stores_the_real_values(self):
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock, args=["--log-level", "debug"])
        jobs = []
        for i in range(len(TICKETS)):
            # classify_ticket's current version says mask_pii = true.
            job = submit_ok(server, {"type": "classify_ticket", "input": {"text": ticket(i)}, "model": "fast"})
            self.assertTrue(job["mask_pii"], job)
            jobs.append(job["id"])
        for i, job_id in enumerate(jobs):
            done = wait_job(server, job_id)
            self.assertTrue(done["mask_pii"], done)
            result = get_result(server, job_id)
            # The mock's summary quotes the ticket: the stored answer has the real values back,
            # in `output` and in `text`, and no placeholder is left.
            summary = result["output"]["summary"]
            quoted = [v for v in all_valid() if v in summary]
            self.assertTrue(quoted, result)
            for v in quoted:
                self.assertIn(json.dumps(v, ensure_ascii=False)[1:-1], result["text"])
            self.assertIsNone(PLACEHOLDER.search(json.dumps(result, ensure_ascii=False)), result)
            self.assertTrue(result["pii"]["masked"], result)
        sent = sent_text(mock)
        self.assert_masked(sent)
        self.assertIn("[EMAIL_1]", sent)
        self.assertIn("[IBAN_1]", sent)
        # What was masked is counted, never shown: ticket 0 holds one email, phone and card.
        self.assertEqual(get_result(server, jobs[0])["pii"]["masked"], {"EMAIL": 1, "PHONE": 1, "CARD": 1})
        self.assertEqual(get_result(server, jobs[2])["pii"]["masked"], {"IIN": 1, "IBAN": 1, "PHONE": 1})
        # Nothing the server logged holds a value either (debug: a line per state change).
        server.stop()
        log = server.stderr_path.read_text(encoding="utf-8", errors="replace")
        self.assertIn("done", log)
        for value in all_valid():
            self.assertNotIn(value, log)

    def test_without_masking_the_provider_sees_the_text_as_it_is(self):
        # The control: the same ticket on a chat job that does not ask for masking.
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock)
        job = submit_ok(server, {"type": "chat", "request": chat_request(ticket(0))})
        self.assertFalse(job["mask_pii"])
        wait_job(server, job["id"])
        sent = sent_text(mock)
        self.assertIn(VALID["EMAIL"][0], sent)
        self.assertIn(VALID["CARD"][0], sent)
        self.assertNotIn("pii", get_result(server, job["id"]))

    def test_a_chat_job_masks_on_every_attempt_and_every_fallback_alias(self):
        # "fast" fails twice with 500 (a retry, then its fallback "strong" on a second mock).
        failing = self.start_mock(latency="1ms", script="500*2")
        backup = self.start_mock(latency="1ms")
        providers = [{"name": "a", "base_url": failing.base_url, "timeout": "5s"},
                     {"name": "b", "base_url": backup.base_url, "timeout": "5s"}]
        models = [{"alias": "fast", "provider": "a", "id": "m-a", "fallback": ["strong"]},
                  {"alias": "strong", "provider": "b", "id": "m-b"}]
        server = self.start_server(providers=providers, models=models)
        text = ticket(1) + " " + ticket(3)
        job = submit_ok(server, {"type": "chat", "mask_pii": True, "request": chat_request(text)})
        self.assertTrue(job["mask_pii"])
        done = wait_job(server, job["id"])
        self.assertEqual(done["status"], "done", done)
        result = get_result(server, job["id"])
        self.assertGreaterEqual(len(failing.received()), 1)
        self.assertEqual(len(backup.received()), 1)
        # Every body sent, to either provider, holds the same placeholders and no value.
        bodies = [json.dumps(b["messages"], ensure_ascii=False) for b in failing.received() + backup.received()]
        self.assertEqual(len(set(bodies)), 1, bodies)
        self.assert_masked(sent_text(failing) + sent_text(backup), texts=[text])
        self.assertEqual(result["model_alias"], "strong", result)
        self.assertIsNone(PLACEHOLDER.search(result["text"]), result)

    def test_a_retry_masks_the_input_again_to_the_same_placeholders(self):
        mock = self.start_mock(latency="1ms", script="500,500")
        server = self.start_server(mock=mock)
        job = submit_ok(server, {"type": "chat", "mask_pii": True, "fallback": False, "max_attempts": 3,
                                 "request": chat_request(ticket(2))})
        done = wait_job(server, job["id"])
        self.assertEqual(done["status"], "done", done)
        self.assertEqual(done["attempt"], 3, done)
        bodies = [json.dumps(b["messages"], ensure_ascii=False) for b in mock.received()]
        self.assertEqual(len(bodies), 3)
        self.assertEqual(len(set(bodies)), 1, bodies)  # nothing stored between attempts, same mask
        self.assert_masked(sent_text(mock), texts=[ticket(2)])

    def test_the_sync_path_masks_with_the_header(self):
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock)
        text = "Summarize: " + ticket(0)
        r = request("POST", server.url + "/v1/chat/completions", json=chat_request(text),
                    headers={"Sluice-Mask-PII": "true"})
        self.assertEqual(r.status, 200, r)
        self.assert_masked(sent_text(mock), texts=[text])
        self.assertEqual(r.body["sluice"]["pii"]["masked"], {"EMAIL": 1, "PHONE": 1, "CARD": 1})
        content = r.body["choices"][0]["message"]["content"]
        self.assertTrue(any(v in content for v in all_valid()), content)
        self.assertIsNone(PLACEHOLDER.search(content), content)
        # Streamed too.
        body = dict(chat_request(text), stream=True)
        s = request("POST", server.url + "/v1/chat/completions", json=body, headers={"Sluice-Mask-PII": "true"})
        self.assertEqual(s.status, 200, s)
        self.assertIsNone(PLACEHOLDER.search(s.raw.decode("utf-8")))
        self.assert_masked(sent_text(mock), texts=[text])
        # A value other than true or false is refused, not taken as "no".
        bad = request("POST", server.url + "/v1/chat/completions", json=chat_request(text),
                      headers={"Sluice-Mask-PII": "yes"})
        self.assertEqual(bad.status, 400, bad)
        self.assertEqual(bad.body["error"]["field"], "Sluice-Mask-PII", bad)
        self.assert_masked(sent_text(mock), texts=[text])

    def test_a_batch_of_job_lines_masks_each_line(self):
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock)
        lines = [{"custom_id": "t%d" % i, "method": "POST", "url": "/v1/jobs",
                  "body": {"type": "chat", "mask_pii": True, "request": chat_request(ticket(i))}}
                 for i in range(len(TICKETS))]
        f = batch_http.upload(server, lines)
        b = batch_http.create_batch(server, f["id"], endpoint="/v1/jobs")
        self.assertEqual(b.status, 200, b)
        done = batch_http.wait_batch(server, b.body["id"])
        self.assertEqual(done["request_counts"]["completed"], len(TICKETS), done)
        self.assert_masked(sent_text(mock))
        out = batch_http.file_lines(server, done["output_file_id"])
        self.assertEqual(len(out), len(TICKETS))

    def test_the_command_line_asks_for_masking(self):
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock)
        body = json.dumps({"type": "chat", "request": chat_request(ticket(3))})
        p = run_cli(["submit", "--json", body, "--mask-pii", "--wait", "10s"], server=server)
        self.assertEqual(p.returncode, 0, p.stderr)
        job_id = p.stdout.split()[0]
        self.assertTrue(harness.get_job(server, job_id)["mask_pii"])
        self.assert_masked(sent_text(mock), texts=[ticket(3)])


ADMIN_KEY = "sk-admin-privacy-test-0123456789abcdef"


class TenantMaskingTest(PrivacyTest):
    """A tenant with mask_pii: everything its key sends is masked, asked for or not."""

    def test_everything_a_masking_tenant_sends_is_masked(self):
        mock = self.start_mock(latency="1ms")
        server = self.start_server(mock=mock, env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        admin = Client(server.url, headers=bearer(ADMIN_KEY))
        cli = run_cli(["tenants", "create", "bank", "--mask-pii", "on", "-o", "json"], server=server,
                      env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertTrue(json.loads(cli.stdout)["mask_pii"], cli.stdout)
        key = admin.post("/v1/admin/keys", json={"tenant": "bank", "name": "t"}).body["key"]
        plain = admin.post("/v1/admin/tenants", json={"id": "shop"})
        self.assertFalse(plain.body["mask_pii"], plain)
        bad = admin.post("/v1/admin/tenants", json={"id": "shop", "mask_pii": "yes"})
        self.assertEqual((bad.status, bad.body["error"]["field"]), (400, "mask_pii"), bad)
        admin.close()
        headers = bearer(key)

        # A chat job that does not ask, and cannot opt out.
        job = submit_ok(server, {"type": "chat", "mask_pii": False, "request": chat_request(ticket(0))},
                        headers=headers)
        self.assertTrue(job["mask_pii"], job)
        wait_job(server, job["id"], headers=headers)
        # A sync call without the header.
        s = request("POST", server.url + "/v1/chat/completions", json=chat_request(ticket(1)), headers=headers)
        self.assertEqual(s.status, 200, s)
        # A batch of chat lines.
        lines = [batch_http.chat_line("l%d" % i, content=ticket(i)) for i in (2, 3)]
        f = batch_http.upload(server, lines, headers=headers)
        b = batch_http.create_batch(server, f["id"], headers=headers)
        self.assertEqual(b.status, 200, b)
        done = batch_http.wait_batch(server, b.body["id"], headers=headers)
        self.assertEqual(done["request_counts"]["completed"], 2, done)

        self.assertEqual(len(mock.received()), 4)
        self.assert_masked(sent_text(mock))


if __name__ == "__main__":
    unittest.main()
