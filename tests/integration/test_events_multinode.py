"""Webhooks and the event stream with several nodes on one PostgreSQL (run by ctest with the
fixture `pg`; skipped without it).

- Every node delivers the shared webhook outbox, yet each event goes out once while receivers
  answer 2xx: claims lock and lease their rows, so two nodes never deliver one event at once.
- A stream on one node shows the events other nodes commit, and a resume on another node with
  Last-Event-ID gets exactly the missed ones: the store holds back events until every older seq
  has settled (sequence values commit out of order on PostgreSQL).
"""

import collections
import unittest

import harness
from harness import classify_job, submit_bulk, submit_ok, wait_job, wait_until
from test_events_stream import SseStream, all_events
from test_multinode import MultiNodeTest
from test_webhooks import SECRET, Receiver

TICKET = "I was charged twice for the same purchase"


class EventsOnSharedStoreTest(MultiNodeTest):
    WEBHOOKS = {"allow_hosts": ["127.0.0.1"], "retry_base": "100ms", "retry_max": "1s"}

    def nodes(self, n):
        mock = self.start_mock(latency="20ms")
        return self.start_nodes(n, mock, webhooks=self.WEBHOOKS, env={"SLUICE_WEBHOOK_SECRET": SECRET})

    def test_each_event_is_delivered_once_by_one_of_the_nodes(self):
        receiver = Receiver().start()
        self.addCleanup(receiver.stop)
        a, b, c = self.nodes(3)
        r = submit_bulk(a, [classify_job(TICKET + " %d" % i, webhook_url=receiver.url) for i in range(60)])
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]
        wait_until(lambda: len(receiver.received()) >= len(ids), timeout=60,
                   message=lambda: "%d of %d deliveries" % (len(receiver.received()), len(ids)))
        for node in (a, b, c):   # drain what is in flight before counting
            node.stop()
        deliveries = receiver.received()
        per_event = collections.Counter(d["body"]["id"] for d in deliveries)
        self.assertEqual(max(per_event.values()), 1, per_event.most_common(3))
        self.assertEqual(sorted(d["body"]["data"]["id"] for d in deliveries), sorted(ids))
        self.assertTrue(all(d["valid"] for d in deliveries))

    def test_a_stream_on_one_node_sees_every_node_and_resumes_on_another(self):
        a, b = self.nodes(2)
        stream = SseStream(b)
        self.addCleanup(stream.close)
        job = submit_ok(a, classify_job(TICKET))   # on the other node
        got = stream.take_until(lambda m: m["data"]["job_id"] == job["id"] and m["event"] == "job.done")
        last_id = got[-1]["id"]
        stream.close()

        r = submit_bulk(a, [classify_job(TICKET + " %d" % i) for i in range(20)])
        more = [j["id"] for j in r.body["jobs"]]
        r2 = submit_bulk(b, [classify_job(TICKET + " b%d" % i) for i in range(20)])
        more += [j["id"] for j in r2.body["jobs"]]
        for job_id in more:
            wait_job(a, job_id)
        expected = [e for e in all_events(a, [job["id"]] + more) if e["seq"] > int(last_id)]

        resumed = SseStream(a, headers={"Last-Event-ID": last_id})
        self.addCleanup(resumed.close)
        got = resumed.take(len(expected))
        self.assertEqual([int(m["id"]) for m in got], [e["seq"] for e in expected])
        seqs = [int(m["id"]) for m in got]
        self.assertEqual(seqs, sorted(set(seqs)), "in order, no duplicates")


if __name__ == "__main__":
    unittest.main()
