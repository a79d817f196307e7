"""Retention ([retention] jobs) in a real `sluice serve`.

What must hold: a job that ended longer ago than the window is purged (404 afterwards, with its
result), and then so is a blob that nothing but purged jobs named; a blob a remaining job names
stays, and so does that job. A window that is no duration stops the start (exit 2, naming the
key). The time travel is real and short: a 2 s window (a pass every second); every check polls
with a generous timeout and no assertion depends on how fast a pass runs.
"""

import hashlib
import unittest

import harness
from harness import wait_until


def put_blob(server, content):
    r = harness.request("POST", server.url + "/v1/blobs", data=content,
                        headers={"Content-Type": "application/octet-stream"})
    assert r.status in (200, 201), r
    assert r.body["id"] == "sha256:" + hashlib.sha256(content).hexdigest(), r
    return r.body["id"]


def status_of(server, path):
    return harness.request("GET", server.url + path).status


class RetentionTest(harness.IntegrationTest):
    def test_old_jobs_and_the_blobs_only_they_named_are_purged_the_rest_stays(self):
        server = self.start_server(tables={"retention": {"jobs": "2s"}})
        # A job that stays queued for an hour names `kept`; uploaded first, so it is the oldest.
        kept = put_blob(server, b"a queued job still needs this ticket text")
        waiting = harness.submit_ok(server, {"type": "classify_ticket", "input": {"blob": kept},
                                             "run_in": "1h"})
        gone = put_blob(server, b"I was charged twice for the same purchase")
        done = harness.submit_ok(server, {"type": "classify_ticket", "input": {"blob": gone}})
        self.assertEqual(harness.wait_job(server, done["id"])["status"], "done")
        self.assertIsNotNone(harness.get_result(server, done["id"]))

        wait_until(lambda: status_of(server, "/v1/jobs/" + done["id"]) == 404, timeout=60,
                   message="the done job to be purged")
        self.assertEqual(status_of(server, "/v1/jobs/%s/result" % done["id"]), 404)
        wait_until(lambda: status_of(server, "/v1/blobs/" + gone) == 404, timeout=60,
                   message="the blob only the purged job named to be removed")
        # A blob uploaded now, named by nobody, is gone once a later pass ran over every old blob.
        late = put_blob(server, b"named by nobody")
        wait_until(lambda: status_of(server, "/v1/blobs/" + late) == 404, timeout=60,
                   message="an unnamed blob to be removed")

        self.assertEqual(status_of(server, "/v1/blobs/" + kept), 200)
        self.assertEqual(harness.get_job(server, waiting["id"])["status"], "queued")

    def test_a_window_that_is_no_duration_stops_the_start(self):
        server = self.track(harness.Server(tmp_dir=self.tmp_dir,
                                           tables={"retention": {"jobs": "ninety days"}}))
        with self.assertRaises(harness.StartError) as cm:
            server.start()
        self.assertIn("retention.jobs", str(cm.exception))
        self.assertEqual(server.returncode, 2)


if __name__ == "__main__":
    unittest.main()
