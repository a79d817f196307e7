"""The short chaos soak: `bench/soak.py --quick` (3 kill -9 / restart cycles of `sluice serve`
under load, against a `sluice mock-llm` failing ~30 % of the calls in every way it can) must end
with every invariant count at 0: no acknowledged job lost, no duplicate result or dedup key, no
job left unsettled or without a reason, no attempt past max_attempts, no time in the store
past the run. The full run (20 cycles)
is `python3 bench/soak.py`; see bench/README.md."""
import json
import subprocess
import sys
import unittest

import harness

SOAK = harness.REPO / "bench" / "soak.py"


class SoakQuickTest(harness.IntegrationTest):
    def test_quick_soak_keeps_every_invariant(self):
        out = self.tmp_dir / "soak.json"
        proc = subprocess.run(
            [sys.executable, str(SOAK), "--quick", "--bin", harness.SLUICE_BIN, "--json", str(out)],
            capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL,
            preexec_fn=harness._die_with_parent if harness._libc is not None else None)
        detail = "exit %d\n---- stdout ----\n%s\n---- stderr (tail) ----\n%s" % (
            proc.returncode, proc.stdout, "\n".join(proc.stderr.splitlines()[-40:]))
        self.assertNotEqual(proc.returncode, 2, "the soak could not run: " + detail)
        self.assertTrue(out.exists(), detail)
        report = json.loads(out.read_text())
        self.assertEqual(report["invariants"],
                         {"lost": 0, "duplicates": 0, "not_settled": 0, "over_attempts": 0,
                          "bad_timestamps": 0}, detail)
        self.assertEqual(proc.returncode, 0, detail)
        totals = report["totals"]
        self.assertEqual(totals["restarts"], 4, detail)              # 3 cycles + the last one
        self.assertGreater(totals["acked_ids"], 0, detail)
        self.assertGreater(totals["status"].get("done", 0), 0, detail)


if __name__ == "__main__":
    unittest.main()
