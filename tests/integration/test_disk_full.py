"""A full disk under the embedded store: submits answer 503 (retry later), never 500, the server
stays up, every job acknowledged before the disk filled is still there, and once space is back
the server takes work again and runs it. Needs root to mount a small tmpfs; skipped otherwise."""
import subprocess
import unittest

from harness import IntegrationTest, request, wait_until

PAD = "x" * 12_000  # metadata padding: a few KiB per job fills a small disk quickly


class DiskFullTest(IntegrationTest):
    def setUp(self):
        super().setUp()
        self.disk = self.tmp_dir / "disk"
        self.disk.mkdir()
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(self.disk)],
                                 capture_output=True, text=True)
        if mounted.returncode != 0:
            self.skipTest("cannot mount a tmpfs here: " + mounted.stderr.strip())
        # Registered before the server starts, so it runs after the server has stopped.
        self.addCleanup(subprocess.run, ["umount", "-l", str(self.disk)], capture_output=True)

    def grow_disk(self):
        subprocess.run(["mount", "-o", "remount,size=256m", str(self.disk)], check=True)

    def test_full_disk_answers_503_and_loses_no_acknowledged_job(self):
        mock = self.start_mock(latency="0ms")
        server = self.start_server(mock=mock, data_dir=self.disk / "data")
        acknowledged, statuses = [], []
        for batch in range(400):
            jobs = [{"type": "classify_ticket", "input": {"text": "charged twice %d-%d" % (batch, i)},
                     "metadata": {"pad": PAD}, "run_in": "1h"} for i in range(10)]
            r = request("POST", server.url + "/v1/jobs/bulk", json={"jobs": jobs}, timeout=30)
            statuses.append(r.status)
            if r.status != 200:
                break
            acknowledged += [j["id"] for j in r.body["jobs"]]
        self.assertIn(503, statuses, "the disk never filled: %r" % statuses[-3:])
        self.assertNotIn(500, statuses)
        self.assertGreater(len(acknowledged), 0)
        self.assertEqual(request("GET", server.url + "/healthz").status, 200)
        # Whatever fits still goes in (a rolled-back commit frees its pages); nothing answers 500.
        single = request("POST", server.url + "/v1/jobs",
                         json={"type": "classify_ticket", "input": {"text": "more"}, "metadata": {"pad": PAD},
                               "run_in": "1h"})
        self.assertIn(single.status, (202, 503), single.status)
        if single.status == 202:
            acknowledged.append(single.body["id"])

        self.grow_disk()
        # Space is back: submits are accepted and run again.
        def accepted():
            r = request("POST", server.url + "/v1/jobs?wait=10s",
                        json={"type": "classify_ticket", "input": {"text": "money was charged twice"}})
            return r if r.status == 200 and r.body["status"] == "done" else None
        wait_until(accepted, timeout=30, message="no job ran after the disk was grown")
        for job_id in acknowledged:
            r = request("GET", server.url + "/v1/jobs/" + job_id)
            self.assertEqual(r.status, 200, job_id)
            self.assertEqual(r.body["status"], "queued")


if __name__ == "__main__":
    unittest.main()
