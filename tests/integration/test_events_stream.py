"""GET /v1/events: the tenant's job events as Server-Sent Events, pushed live, resumable with
Last-Event-ID (or ?after=) without a gap or a duplicate, filterable by type."""

import http.client
import queue
import socket
import threading
import unittest

import harness
from harness import classify_job, request, submit_ok, wait_job, wait_until

TICKET = "I was charged twice for the same purchase"


class SseStream:
    """A GET /v1/events connection read on a thread of its own; messages land in a queue."""

    def __init__(self, server, path="/v1/events", headers=None):
        self.conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        self.conn.request("GET", path, headers=headers or {})
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        self.messages = queue.Queue()
        self.comments = 0
        if self.response.status == 200:
            self.thread = threading.Thread(target=self._read, daemon=True)
            self.thread.start()

    def _read(self):
        fields = {}
        try:
            while True:
                line = self.response.readline()
                if not line:
                    return
                line = line.decode("utf-8").rstrip("\r\n")
                if line == "":
                    if "data" in fields:
                        self.messages.put(dict(fields))
                    fields = {}
                elif line.startswith(":"):
                    self.comments += 1
                else:
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # The test closed the connection under the reader.
            return

    def take(self, count, timeout=30):
        """The next `count` messages, as {"id", "event", "data" (parsed)}."""
        import json
        out = []
        for _ in range(count):
            m = self.messages.get(timeout=timeout)
            m["data"] = json.loads(m["data"])
            out.append(m)
        return out

    def take_until(self, predicate, timeout=30):
        """Messages up to and including the first for which predicate(message) holds."""
        out = []
        while True:
            m = self.take(1, timeout=timeout)[0]
            out.append(m)
            if predicate(m):
                return out

    def close(self):
        # Shut the socket first: it wakes the reader thread, which holds the response's buffer
        # lock that close() would otherwise wait for.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def all_events(server, job_ids):
    """Every event of these jobs from their histories, in seq order."""
    events = []
    for job_id in job_ids:
        r = request("GET", server.url + "/v1/jobs/%s/events" % job_id)
        if r.status != 200:
            raise AssertionError("GET events of %s answered %r" % (job_id, r))
        events += [dict(e, job_id=job_id) for e in r.body["data"]]
    return sorted(events, key=lambda e: e["seq"])


class EventStreamTest(harness.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.server = self.start_server()

    def stream(self, path="/v1/events", headers=None):
        s = SseStream(self.server, path, headers)
        self.addCleanup(s.close)
        return s

    def test_live_events_then_a_resume_gets_exactly_what_was_missed(self):
        live = self.stream()
        self.assertEqual(live.response.status, 200)
        self.assertEqual(live.response.getheader("Content-Type"), "text/event-stream")

        first = submit_ok(self.server, classify_job(TICKET))
        got = live.take_until(lambda m: m["data"]["job_id"] == first["id"] and m["event"] == "job.done")
        mine = [m for m in got if m["data"]["job_id"] == first["id"]]
        self.assertEqual([m["event"] for m in mine], ["job.submitted", "job.started", "job.done"])
        for m in got:
            self.assertEqual(int(m["id"]), m["data"]["seq"])
            self.assertEqual(m["event"], "job." + m["data"]["type"].removeprefix("job."))
        history = all_events(self.server, [first["id"]])
        self.assertEqual([int(m["id"]) for m in mine], [e["seq"] for e in history])
        self.assertEqual([m["data"]["at"] for m in mine], [e["at"] for e in history])
        last_id = got[-1]["id"]
        live.close()

        # Disconnected: more work happens.
        missed = [submit_ok(self.server, classify_job(TICKET + " #%d" % i)) for i in range(3)]
        for job in missed:
            wait_job(self.server, job["id"])
        expected = [e for e in all_events(self.server, [first["id"]] + [j["id"] for j in missed])
                    if e["seq"] > int(last_id)]
        self.assertGreaterEqual(len(expected), 9)

        resumed = self.stream(headers={"Last-Event-ID": last_id})
        got = resumed.take(len(expected))
        self.assertEqual([int(m["id"]) for m in got], [e["seq"] for e in expected])
        self.assertEqual([(m["data"]["job_id"], m["event"]) for m in got],
                         [(e["job_id"], "job." + e["type"]) for e in expected])
        # Nothing more, and nothing twice: the next message is a new job's first event.
        extra = submit_ok(self.server, classify_job(TICKET + " extra"))
        nxt = resumed.take(1)[0]
        self.assertEqual((nxt["data"]["job_id"], nxt["event"]), (extra["id"], "job.submitted"))
        self.assertGreater(int(nxt["id"]), int(got[-1]["id"]))

        # ?after= resumes the same way for clients that cannot set headers.
        again = self.stream("/v1/events?after=%s" % last_id)
        self.assertEqual([int(m["id"]) for m in again.take(len(expected))], [e["seq"] for e in expected])

    def test_types_filter_and_bad_cursors(self):
        done_only = self.stream("/v1/events?types=job.done,job.canceled&after=0")
        jobs = [submit_ok(self.server, classify_job(TICKET + " %d" % i)) for i in range(2)]
        got = done_only.take(2)
        self.assertEqual(sorted(m["data"]["job_id"] for m in got), sorted(j["id"] for j in jobs))
        self.assertTrue(all(m["event"] == "job.done" for m in got), got)

        family = self.stream("/v1/events?types=job.*&after=0")
        self.assertEqual(family.take(1)[0]["event"], "job.submitted")

        for path, headers, field in (("/v1/events", {"Last-Event-ID": "abc"}, "Last-Event-ID"),
                                     ("/v1/events?after=-1", None, "after"),
                                     ("/v1/events?types=job.done,,x", None, "types"),
                                     ("/v1/events?types=JOB%20DONE", None, "types")):
            r = request("GET", self.server.url + path, headers=headers)
            self.assertEqual(r.status, 400, (path, r))
            self.assertEqual(r.body["error"]["field"], field, (path, r))

    def test_a_stream_stays_open_across_quiet_periods_and_ends_on_shutdown(self):
        s = self.stream()
        job = submit_ok(self.server, classify_job(TICKET))
        s.take_until(lambda m: m["data"]["job_id"] == job["id"] and m["event"] == "job.done")
        self.assertEqual(self.server.stop(), 0)   # SIGTERM: the stream ends, the server exits cleanly
        wait_until(lambda: not s.thread.is_alive(), timeout=10, message="the stream to end")


if __name__ == "__main__":
    unittest.main()
