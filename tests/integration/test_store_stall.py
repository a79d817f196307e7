"""A stalled store stalls only the requests that need it (issue "One SQL store core, two
dialects", API items): `sluice serve --store postgres://...` with every PostgreSQL process
stopped (SIGSTOP: connections stay open, nothing answers, as in a hung server or a network
partition without resets) keeps answering `/healthz` within 100 ms while a cancel and a review
wait on the store; once PostgreSQL runs again (SIGCONT) the waiting requests complete, correctly.

Before the fix the cancel and review ran their store calls on the event loop's threads (two by
default), so with both of them waiting nothing else, /healthz included, was answered at all.

The cluster is one of this test's own (scripts/pg-test-cluster.sh in its temp dir): stopping the
one ctest's fixture `pg` shares would stall every test running alongside. Skipped when no
PostgreSQL server is installed.
"""

import os
import shutil
import signal
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import classify_job, request, submit_ok, wait_job, wait_until

CLUSTER_SCRIPT = harness.REPO / "scripts" / "pg-test-cluster.sh"
TICKET = "I was charged twice for the same purchase"
HUMAN = {"category": "fraud", "urgent": True, "confidence": 1.0,
         "summary": "A reviewer says the double charge is fraud."}
HEALTHZ_BUDGET = 0.100   # seconds: the contract of this test


def postgres_installed():
    return any(Path(d, "initdb").is_file() for d in Path("/usr/lib/postgresql").glob("*/bin"))


def process_tree(root_pid):
    """root_pid and every descendant of it (from /proc), root first."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue   # the process ended meanwhile
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        fields = text[text.rindex(")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [root_pid]
    while todo:
        pid = todo.pop(0)
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


class TimedRequest(threading.Thread):
    """One request on a thread of its own; `sent` is set once the request has gone out."""

    def __init__(self, method, url, body):
        super().__init__(daemon=True)
        self.method, self.url, self.body = method, url, body
        self.sent = threading.Event()
        self.response = None
        self.error = None

    def run(self):
        import http.client
        import json
        host, port, path = harness._split(self.url)
        conn = http.client.HTTPConnection(host, port, timeout=120)
        try:
            conn.request(self.method, path, body=json.dumps(self.body).encode(),
                         headers={"Content-Type": "application/json"})
            self.sent.set()
            resp = conn.getresponse()
            raw = resp.read()
            self.response = harness._decode(resp, raw)
        except BaseException as e:   # reported by the test thread
            self.error = e
            self.sent.set()
        finally:
            conn.close()


class StoreStallTest(harness.IntegrationTest):
    cluster_dir = None
    pg_url = ""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not postgres_installed():
            raise unittest.SkipTest("no PostgreSQL server installed (scripts/install-deps.sh)")
        parent = Path(tempfile.mkdtemp(prefix="sluice-it-stall-"))
        parent.chmod(0o755)   # the server runs as `postgres` when we are root: it must get in
        cls.cluster_dir = parent / "cluster"
        cls.pg_url = cls.cluster("start").strip()

    @classmethod
    def tearDownClass(cls):
        if cls.cluster_dir:
            cls.resume_postgres()   # never leave a stopped cluster behind, whatever failed
            cls.cluster("stop")
            shutil.rmtree(cls.cluster_dir.parent, ignore_errors=True)
        super().tearDownClass()

    @classmethod
    def cluster(cls, command):
        import subprocess
        r = subprocess.run([str(CLUSTER_SCRIPT), command, str(cls.cluster_dir)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("pg-test-cluster.sh %s failed: %s" % (command, r.stderr))
        return r.stdout

    @classmethod
    def postgres_pids(cls):
        pid_file = cls.cluster_dir / "data" / "postmaster.pid"
        return process_tree(int(pid_file.read_text().split()[0]))

    @classmethod
    def stop_postgres(cls):
        pids = cls.postgres_pids()
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
        return pids

    @classmethod
    def resume_postgres(cls):
        try:
            pids = cls.postgres_pids()
        except (OSError, ValueError, IndexError):
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    def timed_healthz(self, server):
        """GET /healthz on a fresh connection: (seconds it took, Response). A server that does
        not answer within a second fails the test here."""
        started = time.monotonic()
        try:
            r = request("GET", server.url + "/healthz", timeout=1.0)
        except OSError as e:   # socket.timeout included
            self.fail("GET /healthz did not answer within 1 s while the store is stopped: %r" % (e,))
        took = time.monotonic() - started
        self.assertEqual(r.status, 200, r)
        return took, r

    def test_healthz_answers_while_postgres_is_stopped_and_waiting_calls_complete(self):
        mock = self.start_mock(latency="20ms")
        providers = [{"name": "mock", "base_url": mock.base_url, "timeout": "10s", "max_concurrency": 256}]
        # Two loop threads, the default, written out: the failure this test guards against is
        # two requests holding both of them.
        server = self.start_server(mock=mock, providers=providers,
                                   server={"store": self.pg_url, "io_threads": 2})

        # One job waiting in review (a schema-invalid answer, one attempt) and one queued for later.
        mock.configure({"script": "garbage_content*1"})
        in_review = submit_ok(server, classify_job(TICKET, max_attempts=1))
        self.assertEqual(wait_job(server, in_review["id"], timeout=20)["status"], "review")
        queued = submit_ok(server, classify_job(TICKET + ", later", run_in="1h"))
        self.assertEqual(queued["status"], "queued", queued)
        self.timed_healthz(server)

        self.stop_postgres()
        self.addCleanup(self.resume_postgres)
        cancel = TimedRequest("POST", server.url + "/v1/jobs/%s/cancel" % queued["id"], {})
        review = TimedRequest("POST", server.url + "/v1/jobs/%s/review" % in_review["id"],
                              {"action": "approve", "output": HUMAN})
        cancel.start()
        review.start()
        self.assertTrue(cancel.sent.wait(10) and review.sent.wait(10))

        slowest = [0.0]

        def both_wait_on_the_store():
            took, r = self.timed_healthz(server)
            slowest[0] = max(slowest[0], took)
            pool, store = r.body.get("blocking"), r.body.get("store")
            if pool is None or store is None:
                return False   # a server that does not report them: the next call tells
            # A health ping of its own may be running too; it waits on the store like them.
            waiting = pool["running"] + pool["queued"] - (1 if store["ping_pending_ms"] is not None else 0)
            return waiting >= 2

        wait_until(both_wait_on_the_store, timeout=10, message="the cancel and the review to wait on the store")
        self.assertIsNone(cancel.response, "the cancel answered while PostgreSQL is stopped")
        self.assertIsNone(review.response, "the review answered while PostgreSQL is stopped")
        # Every /healthz answers within the budget while they wait, and soon says why the
        # store is quiet.
        for _ in range(10):
            took, r = self.timed_healthz(server)
            slowest[0] = max(slowest[0], took)
        wait_until(lambda: self.timed_healthz(server)[1].body["store"]["state"] == "not_answering",
                   timeout=10, message="/healthz to report the store as not answering")
        took, r = self.timed_healthz(server)
        slowest[0] = max(slowest[0], took)
        self.assertLess(slowest[0], HEALTHZ_BUDGET,
                        "the slowest /healthz took %.0f ms while the store was stopped" % (slowest[0] * 1000))
        # /readyz tells the truth without waiting either.
        r = request("GET", server.url + "/readyz", timeout=1.0)
        self.assertEqual(r.status, 503, r)
        self.assertEqual(r.error_code, "unavailable", r)
        self.assertIsNone(cancel.response)
        self.assertIsNone(review.response)

        self.resume_postgres()
        cancel.join(60)
        review.join(60)
        self.assertIsNone(cancel.error, cancel.error)
        self.assertIsNone(review.error, review.error)
        self.assertEqual(cancel.response.status, 200, cancel.response)
        self.assertEqual(cancel.response.body["status"], "canceled", cancel.response)
        self.assertEqual(review.response.status, 200, review.response)
        self.assertEqual(review.response.body["status"], "done", review.response)
        self.assertEqual(review.response.body["result"]["output"], HUMAN, review.response)
        # What they answered is what the store holds.
        self.assertEqual(harness.get_job(server, queued["id"])["status"], "canceled")
        self.assertEqual(harness.get_job(server, in_review["id"])["status"], "done")
        wait_until(lambda: self.timed_healthz(server)[1].body["store"]["state"] == "ok",
                   timeout=20, message="/healthz to report the store as ok again")
        wait_until(lambda: request("GET", server.url + "/readyz").status == 200, timeout=20,
                   message="/readyz to answer 200 again")


if __name__ == "__main__":
    unittest.main()
