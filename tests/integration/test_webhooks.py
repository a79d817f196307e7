"""Webhooks (API.md "Events", [webhooks]): when a job ends, Sluice POSTs a signed event to its
webhook_url, retries until a 2xx, keeps undelivered events across a crash, refuses targets on
private networks, and records every attempt in the job's history.

The receiver is an independent Python http.server that checks each signature with Python's own
hmac module, as a customer's receiver would (README.md "Webhooks").
"""

import hashlib
import hmac
import http.server
import ipaddress
import json
import socket
import threading
import time
import unittest

import harness
from harness import classify_job, request, submit, submit_ok, wait_job, wait_until

SECRET = "whsec_integration_test"
TICKET = "I was charged twice for the same purchase"


class Receiver:
    """A webhook receiver on 127.0.0.1: verifies Sluice-Signature, records every delivery, and
    answers 500 to the first `fail_first` requests."""

    def __init__(self, port=None, fail_first=0, secret=SECRET):
        self.secret = secret.encode()
        self.fail_first = fail_first
        self.lock = threading.Lock()
        self.deliveries = []   # every request: {"headers", "body", "raw", "valid", "status"}
        self.port = port or harness.free_port()
        self.httpd = None
        self.thread = None

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    status = 500 if len(receiver.deliveries) < receiver.fail_first else 204
                    receiver.deliveries.append({
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "raw": raw, "body": json.loads(raw), "status": status,
                        "valid": receiver.verify(self.headers.get("Sluice-Signature", ""), raw),
                        "path": self.path})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def verify(self, header, raw):
        """The check a receiver makes: t and v1 from the header, HMAC-SHA256 of "<t>.<body>"."""
        parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
        if "t" not in parts or "v1" not in parts:
            return False
        expected = hmac.new(self.secret, parts["t"].encode() + b"." + raw, hashlib.sha256).hexdigest()
        fresh = abs(time.time() - int(parts["t"])) < 300
        return fresh and hmac.compare_digest(expected, parts["v1"])

    @property
    def url(self):
        return "http://127.0.0.1:%d/hooks/sluice" % self.port

    def received(self, job_id=None, status=None):
        with self.lock:
            return [d for d in self.deliveries
                    if (job_id is None or d["body"]["data"]["id"] == job_id)
                    and (status is None or d["status"] == status)]


def assert_signed_event(test, got, event_type):
    """A first delivery of `event_type`: its signature verifies, and its id, type and version are
    in the body and its headers alike. Returns the body."""
    test.assertTrue(got["valid"], "the signature must verify: %r" % got["headers"])
    body = got["body"]
    test.assertTrue(body["id"].startswith("evt_"), body)
    test.assertEqual(body["type"], event_type)
    test.assertEqual(body["object"], "event")
    test.assertEqual(body["version"], 1)
    test.assertEqual(got["headers"]["sluice-event-id"], body["id"])
    test.assertEqual(got["headers"]["sluice-event-type"], event_type)
    test.assertEqual(got["headers"]["sluice-delivery-attempt"], "1")
    return body


def webhook_events(server, job_id):
    r = request("GET", server.url + "/v1/jobs/%s/events" % job_id)
    if r.status != 200:
        raise AssertionError("GET events of %s answered %r" % (job_id, r))
    return [e["data"] for e in r.body["data"] if e["type"] == "webhook"]


def wait_webhook_events(server, job_id, count, timeout=30):
    return wait_until(lambda: (lambda e: e if len(e) >= count else None)(webhook_events(server, job_id)),
                      timeout=timeout, message="%d webhook events of %s" % (count, job_id))


class WebhookTest(harness.IntegrationTest):
    WEBHOOKS = {"allow_hosts": ["127.0.0.1"], "retry_base": "100ms", "retry_max": "1s",
                "timeout": "5s"}

    def start_receiver(self, **kw):
        receiver = Receiver(**kw).start()
        self.addCleanup(receiver.stop)
        return receiver

    def start_sluice(self, mock=None, webhooks=None, **kw):
        return self.start_server(mock=mock, webhooks=webhooks or self.WEBHOOKS,
                                 env={"SLUICE_WEBHOOK_SECRET": SECRET}, **kw)

    def test_a_done_job_is_delivered_signed_with_the_job_as_get_shows_it(self):
        receiver = self.start_receiver()
        server = self.start_sluice()
        job = submit_ok(server, classify_job(TICKET, webhook_url=receiver.url))
        done = wait_job(server, job["id"])
        self.assertEqual(done["status"], "done", done)
        got = wait_until(lambda: receiver.received(job["id"]), timeout=20, message="the delivery")[0]

        body = assert_signed_event(self, got, "job.done")
        self.assertEqual(got["headers"]["content-type"], "application/json")
        self.assertEqual(got["path"], "/hooks/sluice")
        # The data is the job object exactly as GET /v1/jobs/{id} renders it (result included).
        self.assertEqual(body["data"], harness.get_job(server, job["id"]))
        self.assertEqual(body["data"]["result"]["output"], done["result"]["output"])
        self.assertEqual(body["created_at"], done["finished_at"])

        # The attempt is in the job's history.
        events = wait_webhook_events(server, job["id"], 1)
        self.assertEqual(events[0]["outcome"], "delivered", events)
        self.assertEqual(events[0]["status_code"], 204, events)
        self.assertEqual(events[0]["event_id"], body["id"], events)
        self.assertEqual(events[0]["attempt"], 1, events)
        # A job without a webhook_url sends nothing, and a tampered body would not verify.
        self.assertFalse(receiver.verify(got["headers"]["sluice-signature"], got["raw"] + b" "))

    def test_failed_attempts_are_retried_with_the_same_event_until_a_2xx(self):
        receiver = self.start_receiver(fail_first=2)
        server = self.start_sluice()
        job = submit_ok(server, classify_job(TICKET, webhook_url=receiver.url))
        wait_until(lambda: receiver.received(job["id"], status=204), timeout=30,
                   message="a delivery answered 2xx")
        deliveries = receiver.received(job["id"])
        self.assertEqual([d["status"] for d in deliveries], [500, 500, 204])
        self.assertTrue(all(d["valid"] for d in deliveries))
        self.assertEqual(len({d["body"]["id"] for d in deliveries}), 1, "one event id on every attempt")
        self.assertEqual(len({d["raw"] for d in deliveries}), 1, "the same body on every attempt")
        self.assertEqual([d["headers"]["sluice-delivery-attempt"] for d in deliveries], ["1", "2", "3"])

        events = wait_webhook_events(server, job["id"], 3)
        self.assertEqual([e["outcome"] for e in events], ["retry", "retry", "delivered"], events)
        self.assertEqual([e["status_code"] for e in events], [500, 500, 204], events)
        self.assertEqual([e["attempt"] for e in events], [1, 2, 3], events)
        self.assertIn("next_attempt_at", events[0])
        self.assertEqual(events[0]["code"], "http_error")

    def test_an_undelivered_event_survives_a_kill_9(self):
        port = harness.free_port()   # nobody listens there yet: the receiver is down
        receiver = Receiver(port=port)
        self.addCleanup(receiver.stop)
        server = self.start_sluice()
        job = submit_ok(server, classify_job(TICKET, webhook_url=receiver.url))
        failed = wait_webhook_events(server, job["id"], 1)
        self.assertEqual(failed[0]["outcome"], "retry", failed)
        self.assertEqual(failed[0]["code"], "connect_error", failed)
        event_id = failed[0]["event_id"]

        server.kill9()
        receiver.start()
        server.restart()
        wait_until(lambda: receiver.received(job["id"]), timeout=30, message="the delivery after the restart")
        deliveries = receiver.received(job["id"])
        self.assertTrue(all(d["body"]["id"] == event_id for d in deliveries), deliveries)
        self.assertTrue(all(d["valid"] for d in deliveries))
        events = wait_until(lambda: (lambda e: e if e and e[-1]["outcome"] == "delivered" else None)(
            webhook_events(server, job["id"])), timeout=20, message="the delivered event")
        self.assertEqual(events[-1]["event_id"], event_id)

    def test_private_targets_are_refused_at_submit_and_at_delivery(self):
        server = self.start_sluice(webhooks={"retry_base": "100ms", "retry_max": "1s"})
        for url in ("http://169.254.169.254/", "http://169.254.169.254/latest/meta-data/",
                    "http://127.0.0.1:%d/" % harness.free_port(), "http://localhost/", "http://[::1]/",
                    "http://10.0.0.7/hook", "ftp://example.com/"):
            r = submit(server, classify_job(TICKET, webhook_url=url))
            self.assertEqual(r.status, 400, (url, r))
            self.assertEqual(r.body["error"]["field"], "webhook_url", (url, r))

        # A name that resolves to a private address passes the submit check (no DNS there) and
        # is refused when the delivery resolves it: recorded once, never retried.
        name = socket.gethostname()
        try:
            addresses = {a[4][0] for a in socket.getaddrinfo(name, 80)}
        except OSError:
            addresses = set()
        if not addresses or any(ipaddress.ip_address(a.split("%")[0]).is_global for a in addresses):
            self.skipTest("no local name resolves to a private address here (%s: %s)" % (name, addresses))
        receiver = self.start_receiver()
        job = submit_ok(server, classify_job(TICKET, webhook_url="http://%s:%d/hook" % (name, receiver.port)))
        events = wait_webhook_events(server, job["id"], 1)
        self.assertEqual(events[0]["outcome"], "refused", events)
        self.assertEqual(events[0]["code"], "ssrf_refused", events)
        self.assertIn("allow_hosts", events[0]["error"])
        # Ten retry periods later: still one attempt, and the receiver never saw a request.
        time.sleep(1.0)
        self.assertEqual(len(webhook_events(server, job["id"])), 1)
        self.assertEqual(receiver.received(), [])

    def test_review_and_cancel_fire_their_events(self):
        receiver = self.start_receiver()
        mock = self.start_mock(latency="20ms")
        server = self.start_sluice(mock=mock)
        # A schema-invalid answer with one attempt: the job waits in review.
        self.assertTrue(mock.configure({"script": "garbage_content*1"})["script"])
        job = submit_ok(server, classify_job(TICKET, webhook_url=receiver.url, max_attempts=1))
        self.assertEqual(wait_job(server, job["id"])["status"], "review")
        review = wait_until(lambda: receiver.received(job["id"]), timeout=20, message="job.review")[0]
        self.assertEqual(review["body"]["type"], "job.review")
        self.assertEqual(review["body"]["data"]["status"], "review")
        self.assertTrue(review["valid"])

        r = request("POST", server.url + "/v1/jobs/%s/cancel" % job["id"])
        self.assertEqual(r.status, 200, r)
        canceled = wait_until(lambda: [d for d in receiver.received(job["id"])
                                       if d["body"]["type"] == "job.canceled"],
                              timeout=20, message="job.canceled")[0]
        self.assertEqual(canceled["body"]["data"]["status"], "canceled")
        self.assertNotEqual(canceled["body"]["id"], review["body"]["id"])
        self.assertTrue(canceled["valid"])

        # A queued job canceled before it ran fires job.canceled too.
        queued = submit_ok(server, classify_job(TICKET, webhook_url=receiver.url, run_in="1h"))
        self.assertEqual(request("POST", server.url + "/v1/jobs/%s/cancel" % queued["id"]).status, 200)
        got = wait_until(lambda: receiver.received(queued["id"]), timeout=20, message="job.canceled")
        self.assertEqual(got[0]["body"]["type"], "job.canceled")


if __name__ == "__main__":
    unittest.main()
