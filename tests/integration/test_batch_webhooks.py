"""Batch webhooks (API.md "Events"; ARCHITECTURE.md "Webhooks and the event stream"): a batch
created with Sluice's `webhook_url` extension is told when it ends — batch.completed,
batch.cancelled, ... — with the batch object exactly as GET /v1/batches/{id} shows it, signed
like a job's webhook. The receiver is the independent one of test_webhooks.py, which checks each
signature with Python's own hmac module.
"""

import unittest

import harness
from batch_http import chat_line, create_batch, get_batch, upload, wait_batch
from harness import classify_job, submit, wait_until
from test_webhooks import SECRET, Receiver, assert_signed_event


class BatchWebhookTest(harness.IntegrationTest):
    WEBHOOKS = {"allow_hosts": ["127.0.0.1"], "retry_base": "100ms", "retry_max": "1s",
                "timeout": "5s"}

    def start_receiver(self, **kw):
        receiver = Receiver(**kw).start()
        self.addCleanup(receiver.stop)
        return receiver

    def start_sluice(self, latency="5ms", queues=None):
        mock = self.start_mock(latency=latency)
        return self.start_server(mock=mock, queues=queues, webhooks=self.WEBHOOKS,
                                 env={"SLUICE_WEBHOOK_SECRET": SECRET})

    def hooked_batch(self, server, receiver, n):
        file = upload(server, [chat_line("r-%d" % i) for i in range(n)])
        r = create_batch(server, file["id"], webhook_url=receiver.url, metadata={"run": "hooks"})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["webhook_url"], receiver.url)  # echoed in the batch object
        return r.body

    def test_a_completed_batch_is_delivered_signed_with_the_batch_as_get_shows_it(self):
        receiver = self.start_receiver()
        server = self.start_sluice()
        batch = self.hooked_batch(server, receiver, 5)
        done = wait_batch(server, batch["id"])
        self.assertEqual(done["status"], "completed", done)
        got = wait_until(lambda: receiver.received(batch["id"]), timeout=30, message="the delivery")[0]

        body = assert_signed_event(self, got, "batch.completed")
        # The data is the batch object exactly as GET /v1/batches/{id} renders it.
        self.assertEqual(body["data"], get_batch(server, batch["id"]))
        self.assertEqual(body["data"]["request_counts"], {"total": 5, "completed": 5, "failed": 0})
        self.assertIsNotNone(body["data"]["output_file_id"])
        self.assertEqual(body["data"]["webhook_url"], receiver.url)
        self.assertEqual(len(receiver.received(batch["id"])), 1)

    def test_a_refused_delivery_is_retried_with_the_same_event_id_and_bytes(self):
        receiver = self.start_receiver(fail_first=2)
        server = self.start_sluice()
        batch = self.hooked_batch(server, receiver, 2)
        wait_batch(server, batch["id"])
        got = wait_until(lambda: receiver.received(batch["id"], status=204), timeout=30,
                         message="the delivery after two 500s")
        every = receiver.received(batch["id"])
        self.assertEqual(len(every), 3, every)
        self.assertEqual({d["headers"]["sluice-event-id"] for d in every}, {got[0]["body"]["id"]})
        self.assertEqual({d["raw"] for d in every}, {got[0]["raw"]})
        self.assertEqual([d["headers"]["sluice-delivery-attempt"] for d in every], ["1", "2", "3"])
        self.assertTrue(all(d["valid"] for d in every))

    def test_a_cancelled_batch_is_delivered_as_batch_cancelled(self):
        receiver = self.start_receiver()
        # Slow answers and two slots: the batch is still running when it is cancelled.
        server = self.start_sluice(latency="500ms", queues=[{"name": "batch", "max_concurrency": 2}])
        batch = self.hooked_batch(server, receiver, 20)
        wait_batch(server, batch["id"], statuses=("in_progress",), timeout=30)
        r = harness.request("POST", server.url + "/v1/batches/%s/cancel" % batch["id"])
        self.assertEqual(r.status, 200, r)
        done = wait_batch(server, batch["id"])
        self.assertEqual(done["status"], "cancelled", done)
        got = wait_until(lambda: receiver.received(batch["id"]), timeout=30, message="the delivery")[0]
        self.assertTrue(got["valid"])
        self.assertEqual(got["body"]["type"], "batch.cancelled")
        self.assertEqual(got["body"]["data"], get_batch(server, batch["id"]))
        self.assertEqual(got["body"]["data"]["status"], "cancelled")

    def test_a_file_that_is_no_batch_is_delivered_as_batch_failed_with_its_errors(self):
        receiver = self.start_receiver()
        server = self.start_sluice()
        file = upload(server, [chat_line("same"), chat_line("same")])  # a custom_id twice
        r = create_batch(server, file["id"], webhook_url=receiver.url)
        self.assertEqual(r.status, 200, r)
        failed = wait_batch(server, r.body["id"])
        self.assertEqual(failed["status"], "failed", failed)
        got = wait_until(lambda: receiver.received(r.body["id"]), timeout=30, message="the delivery")[0]
        self.assertTrue(got["valid"])
        self.assertEqual(got["body"]["type"], "batch.failed")
        self.assertEqual(got["body"]["data"], get_batch(server, r.body["id"]))
        self.assertTrue(got["body"]["data"]["errors"]["data"], got["body"])

    def test_webhook_url_is_checked_like_a_jobs_and_a_refused_one_creates_nothing(self):
        server = self.start_sluice()
        file = upload(server, [chat_line("r-1")])
        before = harness.request("GET", server.url + "/v1/batches?limit=100").body["data"]
        for url in ["http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://localhost:9/x",
                    "ftp://hooks.example.com/x", "http://user:pw@hooks.example.com/", 42,
                    "https://hooks.example.com/" + "a" * 2100]:
            r = create_batch(server, file["id"], webhook_url=url)
            self.assertEqual(r.status, 400, (url, r))
            self.assertEqual(r.body["error"]["field"], "webhook_url", r)
            # The very answer a job with this webhook_url gets.
            job = submit(server, classify_job("hello", webhook_url=url))
            self.assertEqual(job.status, 400, job)
            self.assertEqual(job.body["error"], r.body["error"])
        after = harness.request("GET", server.url + "/v1/batches?limit=100").body["data"]
        self.assertEqual(len(after), len(before))
        # No webhook_url (or null, or ""): no webhook, rendered as null.
        for extra in [{}, {"webhook_url": None}, {"webhook_url": ""}]:
            r = create_batch(server, file["id"], **extra)
            self.assertEqual(r.status, 200, r)
            self.assertIsNone(r.body["webhook_url"])


if __name__ == "__main__":
    unittest.main()
