"""Fair share between tenants over HTTP (API.md "Fairness"): within a queue, tenants share the
slots by weighted round-robin, so tenant B's 10 jobs finish while tenant A's backlog of 5 000
jobs, submitted first, is less than a quarter done.
"""

import unittest

import harness
from harness import Client, classify_job, wait_until

ADMIN_KEY = "admin-" + "f" * 40
TICKET = "I was charged twice for the same purchase"


class FairShareTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mock = harness.MockLlm(latency="100ms").start()
        cls.server = harness.Server(mock=cls.mock, env={"SLUICE_ADMIN_KEY": ADMIN_KEY},
                                    queues=[{"name": "default", "max_concurrency": 8}],
                                    server={"bulk_limit": 10000}).start()
        cls.admin = Client(cls.server.url, headers={"Authorization": "Bearer " + ADMIN_KEY})

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.server.cleanup()
        cls.mock.cleanup()

    def tenant(self, name):
        self.assertIn(self.admin.post("/v1/admin/tenants", json={"id": name}).status, (200, 201))
        key = self.admin.post("/v1/admin/keys", json={"tenant": name}).body["key"]
        return Client(self.server.url, headers={"Authorization": "Bearer " + key}, timeout=120)

    def test_a_small_tenant_is_not_stuck_behind_a_flood(self):
        a, b = self.tenant("flood"), self.tenant("small")
        for start in range(0, 5000, 1000):
            jobs = [classify_job(TICKET, object_id="a%d" % i) for i in range(start, start + 1000)]
            r = a.post("/v1/jobs/bulk", json={"jobs": jobs})
            self.assertEqual(r.status, 200, r)
        r = b.post("/v1/jobs/bulk", json={"jobs": [classify_job(TICKET, object_id="b%d" % i) for i in range(10)]})
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]
        wait_until(lambda: all(b.get("/v1/jobs/" + i).body["status"] == "done" for i in ids),
                   timeout=120, interval=0.2, message="the small tenant's 10 jobs are done")
        live = self.admin.get("/v1/admin/tenants/flood").body["usage"]["live_jobs"]
        done = 5000 - live
        self.assertLess(done, 5000 * 0.25, "the flood got %d jobs done before the small tenant's 10" % done)
        a.close()
        b.close()


if __name__ == "__main__":
    unittest.main()
