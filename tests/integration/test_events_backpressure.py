"""GET /v1/events under clients that do not read: a large replay to streams that read nothing
keeps the server's memory bounded ([events] stream_buffer), those streams are closed once they
stall ([events] stall_timeout), a reading stream alongside gets every event once and in order,
and streams past [events] max_streams_per_tenant answer 429 too_many_streams."""

import socket
import time
import unittest

import harness
from harness import classify_job, request, submit_bulk, wait_until
from test_events_stream import SseStream

# About 8 MB of SSE: more than a loopback socket's kernel buffers take in (up to 4 MiB of send
# buffer), so a client that reads nothing really stalls its stream.
JOBS = 40_000
IDLE_STREAMS = 12
STALL_TIMEOUT_S = 3


def idle_stream(server, path):
    """A raw GET that then reads nothing, behind a small receive window."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", server.port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, server.port)).encode())
    return s


def closed_by_server(sock, timeout=30):
    """Drains what the socket holds; True once the server ended the connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while sock.recv(1 << 16):
            pass
        return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class EventStreamBackpressureTest(harness.IntegrationTest):
    def test_a_large_replay_to_clients_that_do_not_read_stays_bounded(self):
        server = self.start_server(tables={"events": {"stream_buffer": "64KiB",
                                                      "stall_timeout": "%ds" % STALL_TIMEOUT_S}})
        # Due in an hour: the jobs stay queued, their events are the job.submitted alone.
        for start in range(0, JOBS, 5_000):
            r = submit_bulk(server, [classify_job("ticket %d" % i, run_in="1h")
                                     for i in range(start, start + 5_000)])
            self.assertEqual(r.status, 200, r)
        baseline = harness.proc_status_kib(server.pid)

        idle = [idle_stream(server, "/v1/events?after=0") for _ in range(IDLE_STREAMS)]
        for s in idle:
            self.addCleanup(s.close)
        reader = SseStream(server, "/v1/events?after=0")
        self.addCleanup(reader.close)
        self.assertEqual(reader.response.status, 200)
        peak = baseline
        got = []
        while len(got) < JOBS:
            got += reader.take(min(1_000, JOBS - len(got)))
            peak = max(peak, harness.proc_status_kib(server.pid))
        seqs = [int(m["id"]) for m in got]
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(set(seqs)), JOBS, "an event went out twice")
        ids = {m["data"]["job_id"] for m in got}
        self.assertEqual(len(ids), JOBS)
        self.assertTrue(all(m["event"] == "job.submitted" for m in got))

        # The idle streams stalled: the server closes them (their clients would resume with
        # Last-Event-ID). Meanwhile memory stays near where it was.
        deadline = time.monotonic() + STALL_TIMEOUT_S + 2
        while time.monotonic() < deadline:
            peak = max(peak, harness.proc_status_kib(server.pid))
            time.sleep(0.2)
        for s in idle:
            self.assertTrue(closed_by_server(s), "a stream that does not read stays open")
        # Generous: each idle stream may hold 64 KiB here plus what the kernel holds (not RSS);
        # without the bound each would hold what of the ~8 MB replay the kernel did not take.
        growth_mib = (peak - baseline) / 1024
        print("\n  RSS baseline %.1f MiB, peak %.1f MiB (+%.1f MiB) with %d idle streams"
              % (baseline / 1024, peak / 1024, growth_mib, IDLE_STREAMS))
        self.assertLess(growth_mib, 40, "server RSS grew by %.1f MiB" % growth_mib)
        # The reader was not closed: it still gets new events.
        r = request("POST", server.url + "/v1/jobs", json=classify_job("one more", run_in="1h"))
        self.assertEqual(r.status, 202, r)
        nxt = reader.take(1)[0]
        self.assertEqual(nxt["data"]["job_id"], r.body["id"])

    def test_streams_past_the_tenant_cap_are_429_too_many_streams(self):
        server = self.start_server(tables={"events": {"max_streams_per_tenant": 2}})
        first, second = SseStream(server), SseStream(server)
        self.addCleanup(first.close)
        self.addCleanup(second.close)
        self.assertEqual((first.response.status, second.response.status), (200, 200))
        r = request("GET", server.url + "/v1/events?after=0")
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.error_code, "too_many_streams")
        self.assertTrue(r.header("Retry-After"))
        # A closed stream frees its place.
        first.close()

        def reopened():
            s = SseStream(server)
            self.addCleanup(s.close)
            return s.response.status == 200

        wait_until(reopened, message="a stream after one closed")


if __name__ == "__main__":
    unittest.main()
