"""README.md's "A five-minute tour with curl" runs as written and answers as it says, and so do
the blocks that continue it in the tour's shell ("Review", "Batches").

The shell blocks are read out of README.md itself, so the README cannot drift from what works.
They run one after the other in one `bash -euo pipefail` from the repository root, as a reader
pastes them, with four substitutions only: `make build` is left out (ctest runs after the build), `build/sluice` is the
binary under test, and the tour's ports (8080, 9001) and folder (/tmp/sluice-tour) become free
ones of this test, so that it runs beside the others. Then each step's answer is checked.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import harness

TOUR_HEADING = "## A five-minute tour with curl"
# Sections whose first shell block runs in the tour's shell, after it, in this order.
CONTINUED_IN = ("## Review: answers a person has to look at", "## Privacy: PII masking",
                "## Audit log",
                "## Batches (OpenAI Batch API)",
                "## Command line", "The rest of the API, one command per route:")


def readme_block(heading):
    """The first ```sh block after the line `heading` in README.md."""
    text = (harness.REPO / "README.md").read_text(encoding="utf-8")
    start = text.index("\n" + heading + "\n")
    begin = text.index("```sh\n", start) + len("```sh\n")
    return text[begin:text.index("```", begin)]


def tour_block():
    return "".join(readme_block(h) for h in (TOUR_HEADING,) + CONTINUED_IN)


class ReadmeTourTest(unittest.TestCase):
    def test_the_tour_runs_as_written(self):
        block = tour_block()
        for must in ("make build\n", "build/sluice ", "8080", "9001", "/tmp/sluice-tour"):
            self.assertIn(must, block, "the tour changed: update this test's substitutions")
        work = tempfile.mkdtemp(prefix="sluice-tour-")
        api_port, mock_port = harness.free_port(), harness.free_port()
        script = (block.replace("make build\n", "")
                  .replace("build/sluice ", harness.SLUICE_BIN + " ")
                  .replace("8080", str(api_port))
                  .replace("9001", str(mock_port))
                  .replace("/tmp/sluice-tour", work))
        # The reader ends the background processes with `kill %1 %2`; the test does it on exit.
        prelude = "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n"
        run = subprocess.run(["bash", "-c", prelude + script], cwd=str(harness.REPO), capture_output=True,
                             text=True, timeout=180, env=dict(os.environ, SLUICE_WEBHOOK_SECRET="tour"))
        if run.returncode != 0:
            logs = ""
            for name in ("serve.log", "mock.log"):
                path = os.path.join(work, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        logs += "--- %s\n%s\n" % (name, f.read()[-4000:])
            self.fail("the tour failed (exit %d):\n%s\n%s\n%s" % (run.returncode, run.stdout, run.stderr[-4000:], logs))
        lines = run.stdout.splitlines()
        self.check_answers(lines)

    def check_answers(self, lines):
        def take(pattern):
            """The next stdout line, which must match `pattern`."""
            self.assertTrue(lines, "the tour printed less than expected (waiting for %r)" % pattern)
            line = lines.pop(0)
            self.assertRegex(line, pattern)
            return line

        def take_json(pattern="^[\\[{]"):
            return json.loads(take(pattern))

        job_id = take(r"^job_[0-9A-Z]+$")
        self.assertEqual(take_json(), {"id": job_id, "deduplicated": True})
        self.assertEqual(take_json(), {"status": "done", "attempt": 1})
        result = take_json()
        self.assertEqual(result["output"]["category"], "double_charge", result)
        self.assertEqual(result["model"], "gpt-4o-mini")
        self.assertGreater(result["cost_usd"], 0)
        events = take_json()
        self.assertEqual((events[0], events[-1]), ("submitted", "done"), events)
        summary = take_json()
        self.assertEqual(summary["status"], "done", summary)
        self.assertTrue(summary["output"]["summary"], summary)
        bulk = take_json()
        self.assertEqual(bulk[0]["status"], "queued", bulk)
        self.assertEqual(bulk[1]["error"]["field"], "type", bulk)
        chat = take_json()
        self.assertRegex(chat["id"], "^job_")
        blob = take_json()
        self.assertRegex(blob["id"], "^sha256:[0-9a-f]{64}$")
        self.assertEqual(blob["bytes"], len("This agreement is made between ACME Bank and the customer.\n"))
        self.assertIn(job_id, take_json())
        self.assertEqual(take_json(), {"status": "canceled"})
        metrics = []
        while lines and lines[0].startswith("sluice_jobs{"):
            metrics.append(lines.pop(0))
        self.assertTrue(any('status="canceled"} 1' in m for m in metrics), metrics)

        # Review: the doubtful ticket is in the inbox, its answer kept, approved once.
        inbox = take_json()
        doubt = [j for j in inbox if j["error"] == "confidence 0.55 is below 0.6"]
        self.assertEqual(len(doubt), 1, inbox)
        self.assertEqual(take_json()["confidence"], 0.55)
        self.assertEqual(take_json(), {"status": "done", "output": "checked"})
        self.assertEqual(take(r'^"'), '"conflict"')

        # Privacy: the provider read placeholders, the result has the values back.
        sent = json.loads(take(r'^"'))
        self.assertIn("[CARD_1]", sent)
        self.assertIn("[EMAIL_1]", sent)
        self.assertNotIn("4111", sent)
        masked = take_json()
        self.assertEqual(masked["pii"], {"masked": {"CARD": 1, "EMAIL": 1}}, masked)
        self.assertIn("4111 1111 1111 1111", masked["summary"])
        self.assertEqual(take_json(), {"masked": {"PHONE": 1}})

        # Audit: the approval above is a record of the chain, by the unauthenticated tour's caller.
        approval = take_json()
        self.assertEqual(approval["action"], "review.approve", approval)
        self.assertEqual(approval["actor"], "anonymous", approval)
        self.assertEqual(approval["prev_hash"], 64, approval)
        self.assertEqual(take_json(), ["model_call", "review.approve"])

        # Batches: both lines ran, the provider model id as well as the alias.
        self.assertEqual(take_json(), {"status": "completed", "request_counts": {"total": 2, "completed": 2,
                                                                                "failed": 0}})
        output = sorted((take_json() for _ in range(2)), key=lambda o: o["custom_id"])
        self.assertEqual(output, [{"custom_id": "bye", "status": 200}, {"custom_id": "hello", "status": 200}])

        # Command line: the script stops at the first command that fails, so each ran; some answers.
        rest = "\n".join(lines)
        self.assertRegex(rest, r"(?m)^job_[0-9A-Z]+ done$")
        self.assertRegex(rest, r'(?m)^\{"id":"job_[0-9A-Z]+","status":"done"\}$')
        self.assertIn('"sentiment": "neutral"', rest)   # the summary of call.txt
        self.assertIn("20 lines: 20 jobs (20 new, 0 deduplicated), 0 invalid", rest)
        self.assertRegex(rest, r"(?m)^job_[0-9A-Z]+ canceled$")
        self.assertIn("error: review_rule: confidence 0.55 is below 0.6\n", rest)
        self.assertIn("\nexit 1\n", rest)
        self.assertRegex(rest, r"(?m)^job_[0-9A-Z]+ done classify_ticket default ")
        self.assertRegex(rest, r"(?m)^[0-9T:.Z-]+ done \{\"attempt\":1\}$")   # the job's history
        self.assertRegex(rest, r"(?m)^batch_[0-9A-Z]+ \w+ /v1/chat/completions [0-9]/2 ")
        self.assertTrue(lines[-1] == "config OK: 3 queues, 1 model, 3 task types", lines[-1])


if __name__ == "__main__":
    unittest.main()
