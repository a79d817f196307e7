"""The client commands that cover the rest of the API, end to end: `sluice cancel`, `review`,
`list`, `events`, `files upload|get|content`, `batches create|get|list|cancel` as processes
against a real `sluice serve` and `sluice mock-llm`, and `sluice config check`, which needs no
server at all.

What must hold (README "Command line"): each command does what its route does, and the server's
state shows it afterwards; the exit codes of every client command (0 ok, 2 usage error or any
4xx such as an unknown id or a job that already ended, 3 server unreachable or failed); `list
--all` walks every page once; `events` prints each event as it arrives (not when the stream
ends), caps one event's size, and exits 0 on Ctrl-C; `config check` names what is wrong and
creates nothing.
"""

import http.server
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

import harness
from harness import classify_job, submit_ok, wait_job, wait_until
from test_cli import run_cli

TICKET = "I was charged twice for the same purchase"
HUMAN = {"category": "fraud", "urgent": True, "confidence": 1.0,
         "summary": "A reviewer says the double charge is fraud."}
NO_JOB = "job_00000000000000000000000000"


def chat_line(custom_id, content):
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "fast", "messages": [{"role": "user", "content": content}]}}


class LineReader:
    """The lines a running process writes to one of its pipes, read by a thread, so a test can
    wait for a line with a timeout instead of blocking on the pipe."""

    def __init__(self, pipe):
        self.lines = queue.Queue()
        self.seen = []
        self.thread = threading.Thread(target=self._read, args=(pipe,), daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for line in pipe:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, predicate, timeout=30.0):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no line matched within %.0f s; seen %r" % (timeout, self.seen[-20:]))
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError("the pipe closed; seen %r" % self.seen[-20:])
            self.seen.append(line)
            if predicate(line):
                return line


class CliCommandsTest(harness.SharedProcessesTest):
    @classmethod
    def start_class_processes(cls):
        cls.mock = cls.start_class_proc(harness.MockLlm(latency="10ms", tmp_dir=cls.class_tmp))
        cls.server = cls.start_class_proc(harness.Server(
            mock=cls.mock, tmp_dir=cls.class_tmp, queues=[{"name": "listing", "max_concurrency": 4}]))

    def cli(self, *args, **kw):
        return run_cli(list(args), server=self.server, **kw)

    def assert_exit(self, proc, code):
        self.assertEqual(proc.returncode, code, "exit %d, stdout %r, stderr %r"
                         % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))

    def events_of(self, job_id):
        return [e["type"] for e in self.server.api.get("/v1/jobs/%s/events" % job_id).body["data"]]

    # -- cancel ----------------------------------------------------------------------------
    def test_cancel_prints_the_canceled_job_and_an_ended_one_is_refused(self):
        job = submit_ok(self.server, classify_job(TICKET, run_in="1h"))
        p = self.cli("cancel", job["id"])
        self.assert_exit(p, 0)
        self.assertTrue(p.stdout.startswith(job["id"] + " canceled"), p.stdout)
        self.assertEqual(harness.get_job(self.server, job["id"])["status"], "canceled")
        self.assertEqual(self.events_of(job["id"])[-1], "canceled")

        # Already ended: the server's 409 and its message, exit 2, and nothing changes.
        again = self.cli("cancel", job["id"])
        self.assert_exit(again, 2)
        self.assertIn("409", again.stderr)
        self.assertIn(job["id"], again.stderr)
        self.assertEqual(self.events_of(job["id"]).count("canceled"), 1)

        other = submit_ok(self.server, classify_job(TICKET + " (json)", run_in="1h"))
        j = self.cli("cancel", other["id"], "-o", "json")
        self.assert_exit(j, 0)
        self.assertEqual((json.loads(j.stdout)["id"], json.loads(j.stdout)["status"]), (other["id"], "canceled"))

        unknown = self.cli("cancel", NO_JOB)
        self.assert_exit(unknown, 2)
        self.assertIn("404", unknown.stderr)

    # -- review ----------------------------------------------------------------------------
    def in_review(self, count):
        """`count` jobs waiting in review: the mock's next answers do not fit the schema, and
        with max_attempts 1 each such job goes to review after one attempt."""
        self.assertTrue(self.mock.configure({"script": "garbage_content*%d" % count})["script"])
        jobs = [submit_ok(self.server, classify_job(TICKET, max_attempts=1))
                for i in range(count)]
        waited = [wait_job(self.server, job["id"], timeout=30) for job in jobs]
        for job in waited:
            self.assertEqual(job["status"], "review", job)
        return [job["id"] for job in waited]

    def test_review_approves_rejects_and_retries(self):
        approve, approve_file, reject, retry = self.in_review(4)

        p = self.cli("review", approve, "--approve", "--job-output", json.dumps(HUMAN))
        self.assert_exit(p, 0)
        self.assertTrue(p.stdout.startswith(approve + " done"), p.stdout)
        self.assertIn('"fraud"', p.stdout)
        result = harness.get_result(self.server, approve)
        self.assertEqual(result["output"], HUMAN)
        self.assertIs(result["reviewed"], True)
        self.assertEqual(self.events_of(approve)[-1], "review_approved")

        # Without --job-output the job's own output is approved; one that did not fit has none.
        bare = self.cli("review", approve_file, "--approve")
        self.assert_exit(bare, 2)
        self.assertIn("has no output to approve", bare.stderr)
        self.assertEqual(harness.get_job(self.server, approve_file)["status"], "review")
        human_file = self.tmp_dir / "human.json"
        human_file.write_text(json.dumps(HUMAN))
        from_file = self.cli("review", approve_file, "--approve", "--job-output", "@%s" % human_file, "-o", "json")
        self.assert_exit(from_file, 0)
        self.assertEqual(json.loads(from_file.stdout)["status"], "done")
        self.assertEqual(harness.get_result(self.server, approve_file)["output"], HUMAN)

        # A vague ticket waits in review by the task's confidence rule, with the model's output:
        # --approve alone makes that the result.
        vague = wait_job(self.server, submit_ok(self.server, classify_job("hello, I have a question"))["id"])
        self.assertEqual(vague["status"], "review", vague)
        own = vague["result"]["output"]
        self.assertLess(own["confidence"], 0.6)
        as_is = self.cli("review", vague["id"], "--approve")
        self.assert_exit(as_is, 0)
        self.assertTrue(as_is.stdout.startswith(vague["id"] + " done"), as_is.stdout)
        approved = harness.get_result(self.server, vague["id"])
        self.assertEqual((approved["output"], approved["reviewed"]), (own, True))

        r = self.cli("review", reject, "--reject", "--reason", "not a real ticket")
        self.assert_exit(r, 0)
        self.assertTrue(r.stdout.startswith(reject + " failed"), r.stdout)
        rejected = harness.get_job(self.server, reject)
        self.assertEqual(rejected["status"], "failed")
        self.assertIn("not a real ticket", rejected["error"]["message"])

        t = self.cli("review", retry, "--retry", "--model", "strong", "-o", "json")
        self.assert_exit(t, 0)
        self.assertIn(json.loads(t.stdout)["status"], ("queued", "running", "done"))
        self.assertIn("review_retry", self.events_of(retry))
        done = wait_job(self.server, retry, statuses=harness.TERMINAL)
        self.assertEqual((done["status"], done["model"]), ("done", "strong"), done)

        # A decision on a job no longer in review: the server's 409, exit 2.
        late = self.cli("review", approve, "--reject")
        self.assert_exit(late, 2)
        self.assertIn("not in review", late.stderr)
        late_as_is = self.cli("review", approve, "--approve")
        self.assert_exit(late_as_is, 2)
        self.assertIn("job %s is done, not in review" % approve, late_as_is.stderr)
        self.assertEqual(harness.get_job(self.server, approve)["status"], "done")
        # What the server refuses in the body: its 400, exit 2.
        bad_output = self.cli("review", NO_JOB, "--approve", "--job-output", "{not json")
        self.assert_exit(bad_output, 2)
        self.assertIn("--job-output is not JSON", bad_output.stderr)
        self.assert_exit(self.cli("review", NO_JOB, "--reject"), 2)

    def test_review_needs_exactly_one_action_and_its_own_options(self):
        for args in (["review", NO_JOB],
                     ["review", NO_JOB, "--approve", "--reject"],
                     ["review", NO_JOB, "--retry", "--reject", "--approve"],
                     ["review", NO_JOB, "--retry", "--reason", "why"],
                     ["review", NO_JOB, "--reject", "--job-output", "{}"],
                     ["review", NO_JOB, "--approve", "--model", "fast"]):
            p = self.cli(*args)
            self.assert_exit(p, 2)
            self.assertTrue(p.stderr.strip(), args)

    # -- list ------------------------------------------------------------------------------
    def test_list_walks_every_page_once(self):
        jobs = [submit_ok(self.server, classify_job("%s (list %d)" % (TICKET, i), queue="listing", run_in="1h"))
                for i in range(5)]
        ids = [job["id"] for job in jobs]

        p = self.cli("list", "--queue", "listing", "--limit", "2", "--all")
        self.assert_exit(p, 0)
        lines = p.stdout.splitlines()
        self.assertEqual(sorted(line.split()[0] for line in lines), sorted(ids))
        for line in lines:
            job_id, status, job_type, queue_name, created_at = line.split()
            self.assertEqual((status, job_type, queue_name), ("queued", "classify_ticket", "listing"), line)
            self.assertRegex(created_at, r"^\d{4}-\d\d-\d\dT")

        j = self.cli("list", "--queue", "listing", "--limit", "2", "--all", "-o", "json")
        self.assert_exit(j, 0)
        listed = json.loads(j.stdout)
        self.assertEqual(sorted(job["id"] for job in listed["data"]), sorted(ids))
        self.assertIsNone(listed["next"])

        # One page, and the next one from its cursor.
        first = json.loads(self.cli("list", "--queue", "listing", "--limit", "2", "-o", "json").stdout)
        self.assertEqual(len(first["data"]), 2)
        self.assertTrue(first["next"])
        second = json.loads(self.cli("list", "--queue", "listing", "--limit", "2", "--after", first["next"],
                                     "-o", "json").stdout)
        self.assertEqual(len(second["data"]), 2)
        self.assertFalse({x["id"] for x in first["data"]} & {x["id"] for x in second["data"]})

        # --max-pages stops early and says where to go on.
        capped = self.cli("list", "--queue", "listing", "--limit", "2", "--all", "--max-pages", "2", "-o", "json")
        self.assert_exit(capped, 0)
        body = json.loads(capped.stdout)
        self.assertEqual(len(body["data"]), 4)
        self.assertTrue(body["next"])
        self.assertIn("stopped after 2 pages", capped.stderr)
        self.assertIn("--after " + body["next"], capped.stderr)

        # Filters reach the server: by object, and by status.
        one = self.cli("list", "--object-id", "nobody-has-this", "--queue", "listing")
        self.assert_exit(one, 0)
        self.assertEqual(one.stdout, "")
        self.assertEqual(self.cli("list", "--queue", "listing", "--status", "done").stdout, "")
        bad = self.cli("list", "--status", "sleeping")
        self.assert_exit(bad, 2)
        self.assertIn("unknown status sleeping", bad.stderr)
        self.assert_exit(self.cli("list", "--limit", "0"), 2)

    # -- events ----------------------------------------------------------------------------
    def start_events(self, *args):
        env = {"SLUICE_SERVER": self.server.url}
        proc = subprocess.Popen([harness.SLUICE_BIN, "events"] + list(args), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=dict(os.environ, **env))
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out, err = LineReader(proc.stdout), LineReader(proc.stderr)
        err.wait_for(lambda line: "streaming events from" in line)
        return proc, out, err

    def test_events_tail_prints_each_event_as_it_arrives_until_ctrl_c(self):
        proc, out, _ = self.start_events("--types", "job.done", "-o", "json")
        texts, text_out, _ = self.start_events()
        job = submit_ok(self.server, classify_job(TICKET + " (events)"))
        line = out.wait_for(lambda l: json.loads(l)["job_id"] == job["id"])
        event = json.loads(line)
        self.assertEqual(event["type"], "job.done")
        self.assertIsInstance(event["seq"], int)
        self.assertFalse([l for l in out.seen if json.loads(l)["type"] != "job.done"], out.seen)
        # Text: "<type> <id>", every type.
        text_out.wait_for(lambda l: l == "job.done " + job["id"])
        self.assertIn("job.submitted " + job["id"], text_out.seen)
        self.assertIn("job.started " + job["id"], text_out.seen)

        proc.send_signal(signal.SIGINT)
        texts.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(timeout=10), 0)
        self.assertEqual(texts.wait(timeout=10), 0)

        # --after resumes: the event just seen comes again, first.
        again, again_out, _ = self.start_events("--types", "job.done", "--after", str(event["seq"] - 1), "-o", "json")
        first = json.loads(again_out.wait_for(lambda l: True))
        self.assertEqual((first["seq"], first["job_id"]), (event["seq"], job["id"]))
        again.send_signal(signal.SIGTERM)
        self.assertEqual(again.wait(timeout=10), 0)

    def test_events_of_one_job_are_its_history(self):
        job = submit_ok(self.server, classify_job(TICKET + " (history)"))
        wait_job(self.server, job["id"], statuses=harness.TERMINAL)
        p = self.cli("events", "--job", job["id"])
        self.assert_exit(p, 0)
        types = [line.split()[1] for line in p.stdout.splitlines()]
        self.assertEqual(types, self.events_of(job["id"]))
        self.assertEqual(types[0], "submitted")
        self.assertIn("done", types)
        j = self.cli("events", "--job", job["id"], "--types", "job.done", "-o", "json")
        self.assert_exit(j, 0)
        self.assertEqual([e["type"] for e in json.loads(j.stdout)["data"]], ["done"])
        unknown = self.cli("events", "--job", NO_JOB)
        self.assert_exit(unknown, 2)
        self.assertIn("404", unknown.stderr)
        bad = self.cli("events", "--types", "job.nope")
        self.assert_exit(bad, 2)
        self.assertIn("unknown event type 'job.nope'", bad.stderr)

    # -- files and batches -----------------------------------------------------------------
    def test_files_upload_then_a_batch_runs_and_its_output_is_read_back(self):
        lines = [chat_line("c-%d" % i, "Hello number %d" % i) for i in range(3)]
        path = self.tmp_dir / "input.jsonl"
        path.write_text("".join(json.dumps(l) + "\n" for l in lines), encoding="utf-8")

        up = self.cli("files", "upload", path)
        self.assert_exit(up, 0)
        file_id = up.stdout.strip()
        self.assertTrue(file_id.startswith("file_"), up.stdout)
        meta = json.loads(self.cli("files", "get", file_id, "-o", "json").stdout)
        self.assertEqual((meta["bytes"], meta["filename"], meta["purpose"]), (path.stat().st_size, "input.jsonl", "batch"))
        copy = self.tmp_dir / "copy.jsonl"
        c = self.cli("files", "content", file_id, "--out", copy)
        self.assert_exit(c, 0)
        self.assertEqual(copy.read_bytes(), path.read_bytes())
        self.assertEqual([p.name for p in self.tmp_dir.iterdir() if ".part-" in p.name], [])
        self.assertEqual(self.cli("files", "content", file_id).stdout, path.read_text())

        created = self.cli("batches", "create", "--input-file-id", file_id, "--metadata", '{"run": "cli"}')
        self.assert_exit(created, 0)
        batch_id = created.stdout.strip()
        self.assertTrue(batch_id.startswith("batch_"), created.stdout)

        def finished():
            b = json.loads(self.cli("batches", "get", batch_id, "-o", "json").stdout)
            return b if b["status"] in ("completed", "failed", "expired", "cancelled") else None

        batch = wait_until(finished, timeout=60, message="batch %s to finish" % batch_id)
        self.assertEqual(batch["status"], "completed", batch)
        self.assertEqual(batch["request_counts"], {"total": 3, "completed": 3, "failed": 0})
        self.assertEqual(batch["metadata"], {"run": "cli"})
        text = self.cli("batches", "get", batch_id)
        self.assert_exit(text, 0)
        self.assertTrue(text.stdout.startswith(batch_id + " completed\n"), text.stdout)
        self.assertIn("requests: 3 total, 3 completed, 0 failed", text.stdout)
        self.assertIn("output_file_id: " + batch["output_file_id"], text.stdout)
        output = self.cli("files", "content", batch["output_file_id"])
        self.assert_exit(output, 0)
        self.assertEqual(sorted(json.loads(l)["custom_id"] for l in output.stdout.splitlines()), ["c-0", "c-1", "c-2"])

        listed = self.cli("batches", "list", "--limit", "100")
        self.assert_exit(listed, 0)
        mine = [l for l in listed.stdout.splitlines() if l.startswith(batch_id + " ")]
        self.assertEqual(len(mine), 1, listed.stdout)
        self.assertIn(" completed /v1/chat/completions 3/3 ", mine[0])
        self.assertIn(batch_id, [b["id"] for b in json.loads(self.cli("batches", "list", "-o", "json").stdout)["data"]])

        # An ended batch cannot be cancelled: 409, exit 2.
        late = self.cli("batches", "cancel", batch_id)
        self.assert_exit(late, 2)
        self.assertIn("409", late.stderr)

    def test_batches_cancel_stops_a_running_batch(self):
        # /v1/jobs lines that run in an hour: the batch is in progress until it is cancelled.
        lines = [{"custom_id": "later-%d" % i, "method": "POST", "url": "/v1/jobs",
                  "body": {"type": "classify_ticket", "input": {"text": "%s later %d" % (TICKET, i)}, "run_in": "1h"}}
                 for i in range(2)]
        path = self.tmp_dir / "later.jsonl"
        path.write_text("".join(json.dumps(l) + "\n" for l in lines))
        file_id = self.cli("files", "upload", path, "--purpose", "batch").stdout.strip()
        batch_id = self.cli("batches", "create", "--input-file-id", file_id, "--endpoint", "/v1/jobs",
                            "--completion-window", "2h").stdout.strip()
        wait_until(lambda: json.loads(self.cli("batches", "get", batch_id, "-o", "json").stdout)["request_counts"]
                   ["total"] == 2, timeout=30, message="the batch's lines to be read")
        p = self.cli("batches", "cancel", batch_id)
        self.assert_exit(p, 0)
        self.assertRegex(p.stdout, r"^%s (cancelling|cancelled)\n" % batch_id)
        wait_until(lambda: json.loads(self.cli("batches", "get", batch_id, "-o", "json").stdout)["status"]
                   == "cancelled", timeout=30, message="batch %s to be cancelled" % batch_id)

    def test_files_and_batches_errors(self):
        self.assert_exit(self.cli("files", "upload", self.tmp_dir / "missing.jsonl"), 2)
        path = self.tmp_dir / "tune.jsonl"
        path.write_text('{"x": 1}\n')
        wrong = self.cli("files", "upload", path, "--purpose", "fine-tune")
        self.assert_exit(wrong, 2)
        self.assertIn('purpose must be "batch"', wrong.stderr)
        for args in (["files", "get", "file_nope"], ["files", "content", "file_nope"],
                     ["batches", "get", "batch_nope"], ["batches", "cancel", "batch_nope"],
                     ["batches", "create", "--input-file-id", "file_nope"]):
            p = self.cli(*args)
            self.assert_exit(p, 2)
            self.assertIn("404", p.stderr, args)
        out = self.tmp_dir / "never.jsonl"
        self.assert_exit(self.cli("files", "content", "file_nope", "--out", out), 2)
        self.assertFalse(out.exists())
        self.assert_exit(self.cli("batches", "create", "--input-file-id", "x", "--metadata", "[1]"), 2)
        self.assert_exit(self.cli("batches"), 2)
        self.assert_exit(self.cli("files"), 2)

    # -- every command without a server ----------------------------------------------------
    def test_no_server_exits_3(self):
        down = "http://127.0.0.1:%d" % harness.free_port()
        path = self.tmp_dir / "any.jsonl"
        path.write_text("{}\n")
        for args in (["cancel", NO_JOB], ["review", NO_JOB, "--reject"], ["review", NO_JOB, "--approve"],
                     ["list"], ["list", "--all"], ["events"], ["events", "--job", NO_JOB],
                     ["files", "upload", path], ["files", "get", "file_x"], ["files", "content", "file_x"],
                     ["batches", "create", "--input-file-id", "file_x"], ["batches", "get", "batch_x"],
                     ["batches", "list"], ["batches", "cancel", "batch_x"]):
            p = run_cli(args + ["--server", down], timeout=30)
            self.assertEqual(p.returncode, 3, (args, p.stdout, p.stderr))
            self.assertIn("cannot reach the Sluice server at " + down, p.stderr, args)

    def test_help_lists_the_new_commands(self):
        overview = self.cli("help")
        self.assert_exit(overview, 0)
        for command in ("cancel", "review", "list", "events", "files", "batches", "config"):
            self.assertIn(command, overview.stdout)
        self.assertIn("--max-pages", self.cli("list", "--help").stdout)


class FakeEventServer:
    """An HTTP server that answers GET /v1/events with a scripted stream, for what the real one
    never sends: an event over the cap, a stream that ends."""

    def __init__(self, chunks, hold=False):
        self.chunks, self.hold = chunks, hold
        self.release = threading.Event()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                try:
                    for chunk in outer.chunks:
                        data = chunk.encode()
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                        self.wfile.flush()
                    if outer.hold:
                        outer.release.wait(30)
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class CliEventsStreamTest(unittest.TestCase):
    def fake(self, chunks, hold=False):
        server = FakeEventServer(chunks, hold=hold)
        self.addCleanup(server.close)
        return server

    def test_an_event_is_printed_before_the_stream_ends_and_the_end_exits_3_naming_the_resume(self):
        server = self.fake(["retry: 2000\n: stream open\n\n",
                            'id: 7\nevent: job.done\ndata: {"seq":7,"job_id":"job_a"}\n\n'], hold=True)
        proc = subprocess.Popen([harness.SLUICE_BIN, "events", "--server", server.url], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())
        out = LineReader(proc.stdout)
        # Printed while the server still holds the stream open: read as it arrives.
        self.assertEqual(out.wait_for(lambda l: True), "job.done job_a")
        self.assertIsNone(proc.poll())
        server.release.set()
        self.assertEqual(proc.wait(timeout=10), 3)
        self.assertIn("closed the event stream (resume with --after 7)", proc.stderr.read())

    def test_an_event_over_the_cap_exits_3(self):
        big = "x" * ((1 << 20) + 1)   # one byte over the cap of what one event holds
        server = self.fake([": stream open\n\n", "data: " + big[:600000], big[600000:] + "\n\n"], hold=True)
        p = run_cli(["events", "--server", server.url], timeout=30)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("larger than 1048576 bytes", p.stderr)
        small = self.fake([": stream open\n\n", "data: " + "y" * 5000 + "\n\n"], hold=True)
        p = run_cli(["events", "--server", small.url, "--max-event-bytes", "4096"], timeout=30)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("larger than 4096 bytes", p.stderr)


class CliFileContentTest(unittest.TestCase):
    """`files content` writes at most the file's own `bytes`: a server that sends more is cut off
    and PATH is left as it was."""

    def test_more_than_the_files_size_is_refused(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                body = (b'{"id":"file_x","object":"file","bytes":5}' if not self.path.endswith("/content")
                        else b"x" * (1 << 20))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        httpd.daemon_threads = True
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        out = Path(tempfile.mkdtemp(prefix="sluice-content-")) / "out.jsonl"
        p = run_cli(["files", "content", "file_x", "--out", out,
                     "--server", "http://127.0.0.1:%d" % httpd.server_address[1]], timeout=30)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertIn("sent more of file_x than its 5 bytes", p.stderr)
        self.assertFalse(out.exists())
        self.assertEqual(list(out.parent.iterdir()), [])  # no temp file left behind


class ConfigCheckTest(unittest.TestCase):
    """`sluice config check`: offline, nothing created."""

    def setUp(self):
        import tempfile
        import shutil
        self.tmp = Path(tempfile.mkdtemp(prefix="sluice-it-config-"))
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.data = self.tmp / "data"

    def write(self, name, text):
        path = self.tmp / name
        path.write_text(text)
        return path

    def check(self, *args):
        return run_cli(["config", "check"] + [str(a) for a in args], timeout=30)

    def good_config(self, extra=""):
        return ('[server]\ndata_dir = "%s"\n[tasks]\ndir = "%s"\n'
                '[[provider]]\nname = "p"\nbase_url = "http://127.0.0.1:1/v1"\n'
                '[[model]]\nalias = "fast"\nprovider = "p"\nid = "m1"\n'
                '[[model]]\nalias = "strong"\nprovider = "p"\nid = "m2"\n'
                '[[queue]]\nname = "urgent"\nmax_concurrency = 4\n' % (self.data, harness.TASKS_DIR)) + extra

    def test_a_good_config_says_what_it_holds_and_creates_nothing(self):
        tasks = len(list(Path(harness.TASKS_DIR).glob("*.toml")))
        p = self.check("--config", self.write("good.toml", self.good_config()))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stdout, "config OK: 3 queues, 2 models, %d task types\n" % tasks)
        self.assertFalse(self.data.exists())
        # --tasks overrides the config's dir; the defaults alone are a config too.
        local = self.check("--tasks", harness.TASKS_DIR)
        self.assertEqual(local.returncode, 0, local.stderr)
        self.assertEqual(local.stdout, "config OK: 2 queues, 0 models, %d task types\n" % tasks)
        self.assertIn("model alias 'fast' is not configured", local.stderr)

    def test_a_broken_config_exits_2_naming_the_file(self):
        typo = self.write("typo.toml", self.good_config('[worker]\nconcurency = 3\n'))
        p = self.check("--config", typo)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertTrue(p.stderr.startswith("config: "), p.stderr)
        self.assertIn(str(typo), p.stderr)
        self.assertIn("concurency", p.stderr)
        syntax = self.write("syntax.toml", "[server\n")
        p = self.check("--config", syntax)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn(str(syntax), p.stderr)
        p = self.check("--config", self.tmp / "missing.toml")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("missing.toml", p.stderr)
        # The task types: a missing dir, and a broken task file, named.
        p = self.check("--config", self.write("good.toml", self.good_config()), "--tasks", self.tmp / "no-tasks")
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertTrue(p.stderr.startswith("tasks: "), p.stderr)
        self.assertIn(str(self.tmp / "no-tasks"), p.stderr)
        tasks = self.tmp / "tasks"
        tasks.mkdir()
        (tasks / "broken.toml").write_text('name = "broken"\nbogus_key = 1\n')
        p = self.check("--tasks", tasks)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("broken.toml", p.stderr)
        # A schedule serve would refuse.
        cron = self.write("cron.toml", self.good_config(
            '[[schedule]]\nname = "nightly"\ncron = "61 * * * *"\ntype = "classify_ticket"\ninbox = "%s"\n'
            % (self.tmp / "inbox")))
        p = self.check("--config", cron)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("schedule nightly: cron", p.stderr)
        self.assertFalse(self.data.exists())


if __name__ == "__main__":
    unittest.main()
