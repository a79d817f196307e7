"""What `sluice serve` writes to stderr ([log], --log-level, --log-format; README "Logs").

What must hold: at info, one line per request (method, path, status, ms, tenant) and never a
header, a query string or a body; --log-format json makes every line one JSON object; at debug,
one line per job state change this node makes (queued, running, done); at warn, no request lines;
a schedule says it was loaded; a bad level or format stops the start (exit 2) naming the key.
"""

import json
import subprocess
import time
import unittest

import harness
from harness import classify_job, submit_ok, wait_job, wait_until

SECRET = "sk-do-not-log-me"


def stderr_lines(server):
    """The server's lines, without the harness's own "==== start" headers."""
    text = server.stderr_path.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if line and not line.startswith("==== ")]


class LoggingTest(harness.IntegrationTest):
    def test_json_lines_log_each_request_without_secrets(self):
        server = self.start_server(args=["--log-format", "json"])
        job = submit_ok(server, classify_job("a ticket that mentions " + SECRET))
        wait_job(server, job["id"])
        r = harness.request("GET", server.url + "/v1/jobs?limit=5&after=" + SECRET,
                            headers={"Authorization": "Bearer " + SECRET})
        self.assertIn(r.status, (200, 400))
        harness.request("GET", server.url + "/v1/no-such-route")

        def requests():
            out = []
            for line in stderr_lines(server):
                entry = json.loads(line)   # every line is one JSON object
                self.assertIn("ts", entry)
                self.assertIn("level", entry)
                self.assertIn("msg", entry)
                if entry["msg"] == "request":
                    out.append(entry)
            return out

        # Lines go out from a thread of their own: wait for the last request's.
        wait_until(lambda: any(e["path"] == "/v1/no-such-route" for e in requests()), timeout=10,
                   message="the 404's access line")
        entries = requests()
        submit = [e for e in entries if e["method"] == "POST" and e["path"] == "/v1/jobs"]
        self.assertEqual(len(submit), 1, entries)
        self.assertEqual(submit[0]["status"], 202)
        self.assertEqual(submit[0]["tenant"], "default")
        self.assertTrue(submit[0]["complete"])
        self.assertGreaterEqual(submit[0]["ms"], 0)
        self.assertEqual(submit[0]["remote"], "127.0.0.1")
        listed = [e for e in entries if e["path"] == "/v1/jobs" and e["method"] == "GET"]
        self.assertEqual(len(listed), 1, entries)
        self.assertEqual([e["status"] for e in entries if e["path"] == "/v1/no-such-route"], [404])
        self.assertNotIn(SECRET, server.stderr_path.read_text(encoding="utf-8"))

    def test_text_lines_and_levels(self):
        inbox = self.tmp_dir / "inbox"
        inbox.mkdir()
        schedule = {"name": "nightly", "cron": "0 2 * * *", "type": "classify_ticket", "inbox": str(inbox)}
        server = self.start_server(args=["--log-level", "debug"], tables={"schedule": [schedule]})
        job = submit_ok(server, classify_job("I was charged twice for the same purchase"))
        wait_job(server, job["id"])
        jid = job["id"]

        def has(text):
            return any(text in line for line in stderr_lines(server))

        wait_until(lambda: has("job %s done" % jid), timeout=10, message="the job's done line")
        self.assertTrue(has("job %s queued: type classify_ticket" % jid))
        self.assertTrue(has("job %s running: attempt 1" % jid))
        self.assertTrue(has(" info POST /v1/jobs 202 "))
        self.assertTrue(has("schedule nightly loaded: cron '0 2 * * *', type classify_ticket"))

        quiet = self.start_server(args=["--log-level", "warn"])
        submit_ok(quiet, classify_job("My card was blocked abroad"))
        quiet.stop()
        self.assertFalse(any(" /v1/jobs " in line for line in stderr_lines(quiet)), stderr_lines(quiet))

    def test_a_stderr_nobody_reads_never_stalls_requests(self):
        # The pipe fills after a few hundred lines; the logging thread then waits, its queue
        # (8192 lines) drops the oldest, and the loop threads go on answering.
        server = harness.Server(tmp_dir=self.tmp_dir)
        server.data_dir.mkdir(parents=True, exist_ok=True)
        server.write_config()
        proc = subprocess.Popen([str(a) for a in server.argv()], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.addCleanup(lambda: (proc.kill(), proc.wait(), proc.stderr.close()))
        wait_until(lambda: harness.request("GET", server.url + "/readyz").status == 200, timeout=20,
                   message="the server is up")
        client = harness.Client(server.url)
        for i in range(20000):   # far past what the pipe and the queue hold
            self.assertEqual(client.get("/healthz").status, 200, "request %d" % i)
        self.assertIsNone(proc.poll())

    def test_a_bad_level_or_format_stops_the_start(self):
        for table, says in (({"level": "loud"}, "log.level must be debug, info, warn, error or off"),
                            ({"format": "xml"}, "log.format must be text or json")):
            server = self.track(harness.Server(tmp_dir=self.tmp_dir, tables={"log": table}))
            with self.assertRaises(harness.StartError) as cm:
                server.start()
            self.assertIn(says, str(cm.exception))
            self.assertEqual(server.returncode, 2)
        flag = self.track(harness.Server(tmp_dir=self.tmp_dir, args=["--log-format", "yaml"]))
        with self.assertRaises(harness.StartError):
            flag.start()
        self.assertEqual(flag.returncode, 2)


if __name__ == "__main__":
    unittest.main()
