"""The client commands end to end: `sluice submit/get/wait/batch/stats` as processes against a
real `sluice serve` and `sluice mock-llm`.

What must hold (README "Command line"): the exit codes scripts rely on (0 done, 1 a job ended
otherwise, 2 usage or input error, 3 server unreachable, 4 timeout waiting); a batch gives every
input line a result in input order, reports bad lines by number, and re-running it creates no
new job; the progress bar is drawn in place on a terminal and plain lines are written anywhere
else.
"""

import json
import os
import pty
import select
import subprocess
import time
import unittest

import harness
from harness import classify_job, submit_ok, wait_job

TICKET = "I was charged twice for the same purchase"


def run_cli(args, server=None, stdin=None, timeout=120, env=None):
    """Runs `sluice <args>`; returns CompletedProcess with text stdout/stderr."""
    full_env = dict(os.environ)
    full_env.pop("SLUICE_SERVER", None)
    full_env.pop("SLUICE_API_KEY", None)
    if server is not None:
        full_env["SLUICE_SERVER"] = server.url
    full_env.update(env or {})
    return subprocess.run([harness.SLUICE_BIN] + [str(a) for a in args], input=stdin, capture_output=True,
                          text=True, timeout=timeout, env=full_env)


def job_count(server):
    return int(harness.metric_sum(server.metrics(), "sluice_jobs") or 0)


class CliTest(harness.SharedProcessesTest):
    @classmethod
    def start_class_processes(cls):
        cls.mock = cls.start_class_proc(harness.MockLlm(latency="10ms", tmp_dir=cls.class_tmp))
        cls.server = cls.start_class_proc(harness.Server(mock=cls.mock, tmp_dir=cls.class_tmp))

    def cli(self, *args, **kw):
        return run_cli(list(args), server=self.server, **kw)

    def assert_exit(self, proc, code):
        self.assertEqual(proc.returncode, code, "exit %d, stdout %r, stderr %r"
                         % (proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))

    # -- submit / get / wait ---------------------------------------------------------------
    def test_submit_get_wait_round_trip(self):
        p = self.cli("submit", "--type", "classify_ticket", "--text", TICKET, "--object-id", "cli-rt-1")
        self.assert_exit(p, 0)
        job_id = p.stdout.strip()
        self.assertTrue(job_id.startswith("job_"), p.stdout)

        w = self.cli("wait", job_id, "--timeout", "30s")
        self.assert_exit(w, 0)
        self.assertTrue(w.stdout.startswith(job_id + " done"), w.stdout)
        self.assertIn("double_charge", w.stdout)

        g = self.cli("get", job_id, "-o", "json")
        self.assert_exit(g, 0)
        job = json.loads(g.stdout)
        self.assertEqual((job["id"], job["status"], job["object_id"]), (job_id, "done", "cli-rt-1"))
        r = self.cli("get", job_id, "--result")
        self.assert_exit(r, 0)
        self.assertEqual(json.loads(r.stdout)["output"]["category"], "double_charge")

        # The same object again is deduplicated: the same id, said on stderr.
        again = self.cli("submit", "--type", "classify_ticket", "--text", TICKET, "--object-id", "cli-rt-1")
        self.assert_exit(again, 0)
        self.assertEqual(again.stdout.strip(), job_id)
        self.assertIn("deduplicated", again.stderr)

    def test_submit_with_wait_prints_the_finished_job(self):
        p = self.cli("submit", "--type", "classify_ticket", "--text", TICKET + " again", "--wait=30s", "-o", "json",
                     "--priority", "7", "--metadata", '{"customer": "acme"}', "--queue", "default")
        self.assert_exit(p, 0)
        job = json.loads(p.stdout)
        self.assertEqual(job["status"], "done")
        self.assertEqual((job["priority"], job["metadata"], job["queue"]), (7, {"customer": "acme"}, "default"))
        self.assertEqual(job["result"]["output"]["category"], "double_charge")

    def test_submit_from_a_json_body_stdin_and_a_large_file(self):
        body = json.dumps(classify_job("card blocked abroad, from --json", object_id="cli-json-1"))
        p = self.cli("submit", "--json", body, "-o", "json")
        self.assert_exit(p, 0)
        self.assertEqual(json.loads(p.stdout)["object_id"], "cli-json-1")

        piped = self.cli("submit", stdin=json.dumps(classify_job("a job body on stdin")))
        self.assert_exit(piped, 0)
        self.assertTrue(piped.stdout.strip().startswith("job_"))
        text_in = self.cli("submit", "--type", "summarize", "-o", "json", stdin="plain text on stdin for a summary")
        self.assert_exit(text_in, 0)
        self.assertEqual(json.loads(text_in.stdout)["type"], "summarize")

        big = self.tmp_dir / "contract.txt"
        big.write_text("The customer disputes a charge. " * 4000, encoding="utf-8")   # ~128 KiB
        f = self.cli("submit", "--type", "summarize", "--input-file", big, "-o", "json")
        self.assert_exit(f, 0)
        job_id = json.loads(f.stdout)["id"]
        stored = harness.get_job(self.server, job_id)
        self.assertEqual(stored["type"], "summarize")
        done = wait_job(self.server, job_id)
        self.assertEqual(done["status"], "done", done)

    def test_bad_usage_and_bad_input_exit_2(self):
        cases = [
            ["submit", "--no-such-flag"],
            ["submit", "--text", "no type given"],
            ["submit", "--type", "classify_ticket", "--text", "x", "--json", "{}"],
            ["submit", "--type", "classify_ticket", "--text", "x", "--wait=soon"],
            ["wait"],
            ["batch", self.tmp_dir / "missing.jsonl"],
        ]
        for args in cases:
            p = self.cli(*args, stdin="")
            self.assert_exit(p, 2)
            self.assertTrue(p.stderr.strip(), args)
        # An invalid job: the server's error code, message and field.
        p = self.cli("submit", "--type", "no_such_task", "--text", "x")
        self.assert_exit(p, 2)
        self.assertIn("400", p.stderr)
        self.assertIn("unknown task type 'no_such_task' (the types are chat, classify_ticket", p.stderr)
        self.assertIn("field: type", p.stderr)
        # An unknown alias names the ones there are.
        p = self.cli("submit", "--type", "classify_ticket", "--text", "x", "--model", "nope")
        self.assert_exit(p, 2)
        self.assertIn("model alias 'nope' is not configured (the aliases are ", p.stderr)
        self.assertIn("local)", p.stderr)
        # A file that cannot be read says why.
        p = self.cli("batch", self.tmp_dir / "missing.jsonl")
        self.assertIn("cannot read %s: No such file or directory" % (self.tmp_dir / "missing.jsonl"), p.stderr)
        p = self.cli("submit", "--type", "summarize", "--input-file", self.tmp_dir)
        self.assert_exit(p, 2)
        self.assertIn("cannot read %s: Is a directory" % self.tmp_dir, p.stderr)
        # An unknown id.
        p = self.cli("get", "job_00000000000000000000000000")
        self.assert_exit(p, 2)
        self.assertIn("404", p.stderr)

    def test_help_exits_0(self):
        p = self.cli("batch", "--help")
        self.assert_exit(p, 0)
        self.assertIn("--out", p.stdout)
        # `sluice help` lists the commands, `sluice help CMD` is CMD's --help, `--version` says it.
        overview = self.cli("help")
        self.assert_exit(overview, 0)
        for command in ("serve", "submit", "batch", "tenants"):
            self.assertIn(command, overview.stdout)
        one = self.cli("help", "serve")
        self.assert_exit(one, 0)
        self.assertIn("--config", one.stdout)
        self.assert_exit(self.cli("help", "nope"), 2)
        version = self.cli("--version")
        self.assert_exit(version, 0)
        self.assertRegex(version.stdout.strip(), r"^sluice \d+\.\d+\.\d+$")

    def test_submit_wait_takes_its_duration_after_a_space(self):
        p = self.cli("submit", "--type", "classify_ticket", "--text", TICKET + " spaced", "--wait", "30s", "-o", "json")
        self.assert_exit(p, 0)
        self.assertEqual(json.loads(p.stdout)["status"], "done")
        bad = self.cli("submit", "--type", "classify_ticket", "--text", TICKET, "--wait", "soon")
        self.assert_exit(bad, 2)
        self.assertIn("wait", bad.stderr)

    def test_wait_timeout_exits_4(self):
        job = submit_ok(self.server, classify_job(TICKET, run_in="1h"))
        p = self.cli("wait", job["id"], "--timeout", "300ms")
        self.assert_exit(p, 4)
        self.assertIn(job["id"], p.stderr)
        s = self.cli("submit", "--type", "classify_ticket", "--text", "later", "--run-in", "1h", "--wait=200ms")
        self.assert_exit(s, 4)
        self.assertTrue(s.stdout.strip().startswith("job_"))

    def test_server_down_exits_3(self):
        port = harness.free_port()
        for args in (["submit", "--type", "classify_ticket", "--text", "x"], ["get", "job_x"], ["stats"],
                     ["wait", "job_x"]):
            p = run_cli(args + ["--server", "http://127.0.0.1:%d" % port])
            self.assertEqual(p.returncode, 3, (args, p.stderr))
            self.assertIn("cannot reach the Sluice server at http://127.0.0.1:%d" % port, p.stderr)
        lines = self.tmp_dir / "down.jsonl"
        lines.write_text('"a"\n"b"\n')
        p = run_cli(["batch", lines, "--type", "classify_ticket", "--server", "http://127.0.0.1:%d" % port])
        self.assertEqual(p.returncode, 3, p.stderr)

    def test_server_from_the_environment_and_the_api_key_header(self):
        p = run_cli(["stats", "-o", "json"], env={"SLUICE_SERVER": self.server.url + "/",
                                                 "SLUICE_API_KEY": "sk-test"})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["object"], "stats")

    # -- stats -----------------------------------------------------------------------------
    def test_stats_as_a_table_and_as_json(self):
        submit_ok(self.server, classify_job("for the stats"))
        p = self.cli("stats")
        self.assert_exit(p, 0)
        self.assertIn("queues", p.stdout)
        header = next(line for line in p.stdout.splitlines() if line.strip().startswith("queue "))
        for column in ("queue", "queued", "done", "failed", "cost_usd"):
            self.assertIn(column, header)
        self.assertTrue(any(line.strip().startswith("default ") for line in p.stdout.splitlines()), p.stdout)
        raw = self.cli("stats", "--json-output")
        self.assert_exit(raw, 0)
        self.assertIn("queues", json.loads(raw.stdout))
        # A window is refused, not ignored, until stats come from the store.
        windowed = self.cli("stats", "--window", "1h")
        self.assert_exit(windowed, 2)
        self.assertIn("window is not supported yet", windowed.stderr)

    # -- batch -----------------------------------------------------------------------------
    def write_batch(self, name, n, bad=()):
        """n lines: a mix of plain strings, objects with text, full jobs; `bad` line numbers
        (1-based) get an invalid line each. Returns the path and the expected kinds."""
        path = self.tmp_dir / name
        lines, kinds = [], []
        bad_lines = ['{"text": "unterminated', '{"text": "x", "priority": "high"}', '{"text": ""}', "42"]
        for i in range(1, n + 1):
            if i in bad:
                lines.append(bad_lines[bad.index(i) % len(bad_lines)])
                kinds.append("bad")
            elif i % 3 == 0:
                lines.append(json.dumps({"type": "classify_ticket", "input": {"text": "line %d: card blocked" % i},
                                         "object_id": "%s-%d" % (name, i)}))
                kinds.append("object")
            elif i % 3 == 1:
                lines.append(json.dumps("line %d of %s: I was charged twice" % (i, name)))
                kinds.append("string")
            else:
                lines.append(json.dumps({"text": "line %d of %s: my card was blocked abroad" % (i, name)}))
                kinds.append("text")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path, kinds

    def test_batch_waits_writes_every_result_in_order_and_a_rerun_creates_nothing(self):
        bad = [7, 50, 120, 199]
        path, kinds = self.write_batch("tickets.jsonl", 200, bad=bad)
        out = self.tmp_dir / "results.jsonl"
        before = job_count(self.server)
        p = self.cli("batch", path, "--type", "classify_ticket", "--wait", "--out", out, "--timeout", "120s")
        self.assert_exit(p, 2)   # some lines were invalid
        for n in bad:
            self.assertIn("line %d:" % n, p.stderr)
        self.assertIn("200 lines: 196 jobs (196 new, 0 deduplicated), 4 invalid", p.stdout)
        self.assertEqual(job_count(self.server) - before, 196)

        results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        self.assertEqual([r["line"] for r in results], list(range(1, 201)))
        for r, kind in zip(results, kinds):
            if kind == "bad":
                self.assertEqual(r["status"], "invalid", r)
                self.assertTrue(r["error"]["message"], r)
                continue
            self.assertEqual(r["status"], "done", r)
            self.assertTrue(r["job_id"].startswith("job_"), r)
            self.assertIn(r["output"]["category"], ("double_charge", "card_blocked", "account_closure", "other"), r)
            if kind == "object":
                self.assertEqual(r["object_id"], "tickets.jsonl-%d" % r["line"])
        self.assertEqual(len({r["job_id"] for r in results if "job_id" in r}), 196)

        # The same command again: every job is found, none is made.
        again = self.cli("batch", path, "--type", "classify_ticket", "--wait", "--out", out)
        self.assert_exit(again, 2)
        self.assertIn("196 jobs (0 new, 196 deduplicated)", again.stdout)
        self.assertEqual(job_count(self.server) - before, 196)
        rerun = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        self.assertEqual([r.get("job_id") for r in rerun], [r.get("job_id") for r in results])

    def test_a_clean_batch_exits_0_and_without_wait_writes_job_ids(self):
        path, _ = self.write_batch("clean.jsonl", 30)
        out = self.tmp_dir / "ids.jsonl"
        p = self.cli("batch", path, "--type", "classify_ticket", "--out", out, "-o", "json", "--chunk", "7")
        self.assert_exit(p, 0)
        summary = json.loads(p.stdout)
        self.assertEqual((summary["lines"], summary["created"], summary["invalid"]), (30, 30, 0))
        records = [json.loads(line) for line in out.read_text().splitlines()]
        self.assertEqual([r["line"] for r in records], list(range(1, 31)))
        self.assertTrue(all(r["job_id"].startswith("job_") and r["deduplicated"] is False for r in records))
        waited = self.cli("batch", path, "--type", "classify_ticket", "--wait", "-o", "json")
        self.assert_exit(waited, 0)
        self.assertEqual(json.loads(waited.stdout)["ended"], {"done": 30})

    def test_batch_maps_a_foreign_files_fields_and_refuses_one_dedup_key_for_all(self):
        # demo/tickets.jsonl's shape: an id, the text, and fields of its own.
        path = self.tmp_dir / "foreign.jsonl"
        lines = [{"id": "T-%d" % i, "text": "%s %d" % (TICKET, i), "channel": "chat", "urgent": False}
                 for i in range(5)]
        path.write_text("".join(json.dumps(l) + "\n" for l in lines))
        refused = self.cli("batch", path, "--type", "classify_ticket", "--extra-fields", "refuse", "-o", "json")
        self.assert_exit(refused, 2)
        self.assertEqual(json.loads(refused.stdout)["invalid"], 5)
        self.assertIn("unknown field id", refused.stderr)

        out = self.tmp_dir / "foreign-out.jsonl"
        p = self.cli("batch", path, "--type", "classify_ticket", "--id-field", "id", "--wait", "--out", out)
        self.assert_exit(p, 0)
        self.assertIn("extra fields, carried into metadata: channel (5 lines) urgent (5 lines)", p.stdout)
        records = [json.loads(line) for line in out.read_text().splitlines()]
        self.assertEqual([r["object_id"] for r in records], ["T-%d" % i for i in range(5)])
        job = self.cli("get", records[0]["job_id"], "-o", "json")
        self.assertEqual(json.loads(job.stdout)["metadata"], {"channel": "chat", "urgent": False})

        one_key = self.cli("batch", path, "--type", "classify_ticket", "--dedup-key", "X")
        self.assert_exit(one_key, 2)
        self.assertIn("--dedup-key", one_key.stderr)

    def test_progress_is_plain_lines_when_piped(self):
        path, _ = self.write_batch("piped.jsonl", 40)
        p = self.cli("batch", path, "--type", "classify_ticket", "--wait")
        self.assert_exit(p, 0)
        self.assertNotIn("\r", p.stderr)
        self.assertNotIn("\033[", p.stderr)
        self.assertRegex(p.stderr, r"progress: 40/40 \(100%\) [0-9.]+/s  ETA 0:00")

    def test_a_batch_of_only_invalid_lines_draws_no_progress(self):
        path = self.tmp_dir / "all-invalid.jsonl"
        path.write_text('{"type": "no_such_task"}\nnot json\n')
        p = self.cli("batch", path, "--wait", "--progress", "plain")
        self.assert_exit(p, 2)
        self.assertIn("line 1:", p.stderr)
        self.assertIn("line 2:", p.stderr)
        self.assertNotIn("progress:", p.stderr)
        self.assertNotIn("0/0", p.stderr)

    def test_progress_bar_is_drawn_in_place_on_a_terminal(self):
        path, _ = self.write_batch("tty.jsonl", 40)
        master, slave = pty.openpty()
        env = dict(os.environ, SLUICE_SERVER=self.server.url)
        proc = subprocess.Popen([harness.SLUICE_BIN, "batch", str(path), "--type", "classify_ticket", "--wait"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env)
        os.close(slave)
        seen = b""
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 65536)
            except OSError:   # EIO: the process closed its end
                break
            if not chunk:
                break
            seen += chunk
        os.close(master)
        stdout, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, seen)
        text = seen.decode("utf-8", "replace")
        self.assertIn("\r\033[K[", text)                 # redrawn in place
        self.assertRegex(text, r"\] 40/40  100%  [0-9.]+/s  ETA 0:00")
        self.assertNotIn("progress: ", text)             # no plain lines on a terminal
        self.assertIn(b"40 lines: 40 jobs", stdout)


class CliFailuresTest(harness.IntegrationTest):
    def test_wait_on_a_failed_job_exits_1_and_a_batch_with_failures_too(self):
        mock = self.start_mock(latency="10ms")
        server = self.start_server(mock=mock)
        self.assertTrue(mock.configure({"script": "400"})["script"])   # the next call: a 400, not retried
        job = submit_ok(server, classify_job(TICKET))
        p = run_cli(["wait", job["id"], "--timeout", "30s"], server=server)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertTrue(p.stdout.startswith(job["id"] + " failed"), p.stdout)
        self.assertIn("error:", p.stdout)

        mock.configure({"script": "400*3"})
        path = self.tmp_dir / "some-fail.jsonl"
        path.write_text("".join(json.dumps("failing batch line %d: charged twice" % i) + "\n" for i in range(10)))
        out = self.tmp_dir / "out.jsonl"
        b = run_cli(["batch", path, "--type", "classify_ticket", "--wait", "--out", out], server=server)
        self.assertEqual(b.returncode, 1, b.stderr)
        results = [json.loads(line) for line in out.read_text().splitlines()]
        self.assertEqual(sorted(r["status"] for r in results), ["done"] * 7 + ["failed"] * 3)
        self.assertTrue(all(r["error"] for r in results if r["status"] == "failed"))
        self.assertIn("failed 3", b.stdout + b.stderr)


    def test_serve_with_a_missing_tasks_dir_exits_2_and_leaves_no_data_dir(self):
        # README's tour once pointed at a tasks dir that resolved elsewhere: the refusal must
        # name the folder and leave nothing behind (no LOCK, no database) for the next try.
        data = self.tmp_dir / "data"
        config = self.tmp_dir / "serve.toml"
        config.write_text('[server]\nlisten = "127.0.0.1:%d"\ndata_dir = "%s"\n[tasks]\ndir = "./no-such-tasks"\n'
                          % (harness.free_port(), data))
        p = run_cli(["serve", "--config", config], timeout=30)
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn(str(self.tmp_dir / "no-such-tasks"), p.stdout + p.stderr)
        self.assertFalse(data.exists(), "a failed start left %s behind" % data)

if __name__ == "__main__":
    unittest.main()
