"""Scheduled batches ([[schedule]]) in a real `sluice serve`.

What must hold: a bad schedule stops the start with a clear message (exit 2); a fire missed while
the server was down runs once when it starts (the last fire time is kept in
<data_dir>/schedules.json), turning every inbox file into one job, and a restart does not submit
the same files again.
"""

import json
import unittest

import harness
from harness import wait_until


def list_jobs(server):
    r = harness.request("GET", server.url + "/v1/jobs?limit=1000")
    assert r.status == 200, r
    return r.body["data"]


class ScheduleTest(harness.IntegrationTest):
    def schedule(self, **fields):
        s = {"name": "nightly", "cron": "0 2 * * *", "type": "classify_ticket", "inbox": str(self.tmp_dir / "inbox")}
        s.update(fields)
        return s

    def test_a_bad_schedule_stops_the_start(self):
        cases = [
            (self.schedule(cron="0 25 * * *"), "schedule nightly: cron: hour: 25 is out of range"),
            (self.schedule(type="no_such_task"), "schedule nightly: unknown task type no_such_task"),
            (self.schedule(drop_file="x.jsonl"), "exactly one of inbox"),
            (self.schedule(every="day"), "unknown key schedule[0].every"),
        ]
        for schedule, says in cases:
            server = self.track(harness.Server(tmp_dir=self.tmp_dir, tables={"schedule": [schedule]}))
            with self.assertRaises(harness.StartError) as cm:
                server.start()
            self.assertIn(says, str(cm.exception))
            self.assertEqual(server.returncode, 2)

    def test_a_missed_fire_runs_once_at_start_and_never_twice(self):
        inbox = self.tmp_dir / "inbox"
        inbox.mkdir()
        (inbox / "a.txt").write_text("I was charged twice for the same purchase", encoding="utf-8")
        (inbox / "b.txt").write_text("My card was blocked abroad", encoding="utf-8")
        (inbox / ".c.txt.part").write_text("not yet", encoding="utf-8")
        server = harness.Server(tmp_dir=self.tmp_dir, tables={"schedule": [self.schedule()]})
        self.track(server)
        # The last fire was long ago: at least one nightly fire was missed while "down".
        server.data_dir.mkdir(parents=True, exist_ok=True)
        (server.data_dir / "schedules.json").write_text(
            json.dumps({"version": 1, "last_fire": {"nightly": "2020-01-01T02:00:00.000Z"}}))
        server.start()
        jobs = wait_until(lambda: len(list_jobs(server)) == 2 and list_jobs(server), timeout=20,
                          message="two jobs from the inbox")
        self.assertEqual({j["queue"] for j in jobs}, {"batch"})
        self.assertTrue(all(j["dedup_key"].startswith("schedule:nightly:") for j in jobs), jobs)
        for j in jobs:
            self.assertEqual(harness.wait_job(server, j["id"])["status"], "done")
        state = json.loads((server.data_dir / "schedules.json").read_text())
        self.assertGreater(state["last_fire"]["nightly"], "2020-01-02")

        # A restart with the state file set back again: the fire runs, but finds nothing new.
        server.stop()
        (server.data_dir / "schedules.json").write_text(
            json.dumps({"version": 1, "last_fire": {"nightly": "2020-01-01T02:00:00.000Z"}}))
        server.start()
        wait_until(lambda: json.loads((server.data_dir / "schedules.json").read_text())["last_fire"]["nightly"]
                   > "2020-01-02", timeout=20, message="the catch-up fire")
        self.assertEqual(len(list_jobs(server)), 2)


if __name__ == "__main__":
    unittest.main()
