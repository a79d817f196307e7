"""Crash tests for batches (ARCHITECTURE.md "Files and batches"), against real processes: a
large batch's server is killed with SIGKILL while it turns the file's lines into jobs, and again
while it writes the output file; each time it is restarted on the same data dir. Afterwards the
batch has completed with every request counted once, and its output file holds exactly one line
per custom_id — none missing, none twice — from exactly one job per line.

Where the server stands when it is killed is read from its SQLite file (read-only, beside the
running server, as any WAL reader may), so the kill lands mid-way, not merely "soon".
"""

import sqlite3
import time
import unittest
from contextlib import closing

import harness
from batch_http import chat_line, create_batch, file_lines, get_batch, upload, wait_batch

LINES = 20_000
CHUNK = 1_000  # the runner's ingestion chunk (BatchWorkOptions::chunk_lines)


def db_row(server, sql, args=()):
    """One row of a query on the server's SQLite file, opened read-only."""
    uri = "file:%s?mode=ro" % (server.data_dir / "sluice.db")
    with closing(sqlite3.connect(uri, uri=True, timeout=10)) as db:
        return db.execute(sql, args).fetchone()


def poll(predicate, timeout, message):
    """predicate() every 5 ms until it is truthy: the kill must land inside a short window, so
    this does not back off like harness.wait_until."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.005)
    raise harness.WaitTimeout("timed out after %.0f s waiting for %s" % (timeout, message))


class BatchCrashTest(harness.IntegrationTest):
    def start_sluice(self):
        # Answers take a while, so the batch's jobs are still running while it is ingested.
        mock = self.start_mock(latency="20ms")
        return self.start_server(mock=mock, queues=[{"name": "batch", "max_concurrency": 128}])

    def check_completed_exactly_once(self, server, batch_id, custom_ids):
        done = wait_batch(server, batch_id, timeout=240)
        self.assertEqual(done["status"], "completed", done)
        self.assertEqual(done["request_counts"], {"total": len(custom_ids), "completed": len(custom_ids),
                                                  "failed": 0}, done)
        self.assertIsNone(done["error_file_id"], done)
        lines = file_lines(server, done["output_file_id"])
        got = [l["custom_id"] for l in lines]
        self.assertEqual(len(got), len(custom_ids), "one output line per request")
        self.assertEqual(set(got), set(custom_ids), "no custom_id missing, none foreign")
        self.assertEqual(len(set(got)), len(got), "no custom_id twice")
        self.assertTrue(all(l["response"]["status_code"] == 200 for l in lines))
        # One job per line: the lines name distinct jobs, and the batch has no other job.
        self.assertEqual(len({l["response"]["request_id"] for l in lines}), len(custom_ids))
        (jobs,) = db_row(server, "SELECT count(*) FROM jobs WHERE batch_id = ?", (batch_id,))
        self.assertEqual(jobs, len(custom_ids))
        # A dead finalizer's half-written files are not left behind: every file is complete.
        (incomplete,) = db_row(server, "SELECT count(*) FROM files WHERE complete = 0")
        self.assertEqual(incomplete, 0)
        (orphans,) = db_row(server, "SELECT count(DISTINCT file_id) FROM file_chunks "
                                    "WHERE file_id NOT IN (SELECT id FROM files)")
        self.assertEqual(orphans, 0)
        return done

    def test_kill9_during_ingestion_and_during_finalization_then_every_request_once(self):
        server = self.start_sluice()
        custom_ids = ["req-%05d" % i for i in range(LINES)]
        file = upload(server, [chat_line(c, content="line %s" % c) for c in custom_ids])
        r = create_batch(server, file["id"])
        self.assertEqual(r.status, 200, r)
        batch_id = r.body["id"]

        # 1. Mid-ingestion: some chunks are jobs, the file is not done.
        def ingesting():
            row = db_row(server, "SELECT ingested, ingest_line FROM batches WHERE id = ?", (batch_id,))
            return row and row[0] == 0 and 0 < row[1] < LINES - CHUNK
        poll(ingesting, 120, "ingestion to be under way")
        server.kill9()
        ingested, line = db_row(server, "SELECT ingested, ingest_line FROM batches WHERE id = ?", (batch_id,))
        self.assertEqual(ingested, 0, "the kill came after ingestion ended")
        (jobs_at_kill,) = db_row(server, "SELECT count(*) FROM jobs WHERE batch_id = ?", (batch_id,))
        self.assertEqual(jobs_at_kill, line, "each committed chunk moved the resume point with its jobs")
        self.assertLess(jobs_at_kill, LINES)

        # 2. Restarted on the same data dir, it resumes at the resume point; then, mid-finalization
        # (the batch is finalizing and part of its output file is written), it is killed again.
        server.restart()
        self.assertEqual(get_batch(server, batch_id)["request_counts"]["total"], LINES)

        finalizer = ("SELECT status, (SELECT count(*) FROM file_chunks WHERE file_id = output_file_id) "
                     "FROM batches WHERE id = ?")

        def finalizing():
            row = db_row(server, finalizer, (batch_id,))
            if row and row[0] in ("completed", "failed", "expired", "cancelled"):
                raise AssertionError("the batch ended (%s) before it could be killed while finalizing" % row[0])
            return row and row[0] == "finalizing" and row[1] > 0
        poll(finalizing, 240, "the output file to be partly written")
        server.kill9()
        status, chunks = db_row(server, finalizer, (batch_id,))
        self.assertEqual(status, "finalizing", "the kill came after finalization ended")
        self.assertGreater(chunks, 0)

        # 3. Restarted again: another finalizer writes the files afresh and the batch completes.
        server.restart()
        self.check_completed_exactly_once(server, batch_id, custom_ids)


if __name__ == "__main__":
    unittest.main()
