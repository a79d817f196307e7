"""Tenants and API keys over HTTP (API.md "Tenants, API keys and quotas"), real processes:

- without keys: the default tenant, unauthenticated, loopback only (refusing 0.0.0.0 at start),
  and browsers cannot drive it (foreign Origin, non-JSON content types, DNS-rebinding Hosts);
- with the admin key: 401 without or with a wrong key, 403 for a tenant key on /v1/admin and
  /metrics, tenants and keys over /v1/admin and the CLI (online and offline), revocation;
- isolation per route family: jobs, results, events, cancel, review, lists, dedup keys, files,
  batches, the SSE stream — another tenant's id is a 404 exactly like an unknown one;
- quotas: rpm and max_queued answer 429 with Retry-After.
"""

import json
import os
import socket
import subprocess
import time
import unittest

import harness
from harness import Client, classify_job, request, wait_until

ADMIN_KEY = "admin-" + "x" * 40
TICKET = "I was charged twice for the same purchase"
UNKNOWN_JOB = "job_00000000000000000000000000"


def cli(args, env=None, timeout=60):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([harness.SLUICE_BIN] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, env=e)


def bearer(key):
    return {"Authorization": "Bearer " + key}


class OpenModeTest(unittest.TestCase):
    """No admin key, no API key: the default tenant, on loopback only."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server().start()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()

    def test_requests_need_no_key_and_admin_routes_are_refused(self):
        r = request("POST", self.server.url + "/v1/jobs", json=classify_job(TICKET))
        self.assertEqual(r.status, 202, r)
        r = request("GET", self.server.url + "/v1/admin/tenants")
        self.assertEqual(r.status, 403, r)
        self.assertIn("SLUICE_ADMIN_KEY", r.body["error"]["message"])

    def test_json_routes_insist_on_a_json_content_type(self):
        body = json.dumps(classify_job(TICKET))
        for ctype in ("text/plain", "text/plain; a=json", "application/x-www-form-urlencoded", None):
            headers = {"Content-Type": ctype} if ctype else {}
            r = request("POST", self.server.url + "/v1/jobs", data=body, headers=headers)
            self.assertEqual(r.status, 415, (ctype, r))
        r = request("POST", self.server.url + "/v1/jobs", data=body,
                    headers={"Content-Type": "Application/JSON; charset=utf-8"})
        self.assertEqual(r.status, 202, r)

    def test_a_foreign_origin_cannot_change_state(self):
        r = request("POST", self.server.url + "/v1/jobs", json=classify_job(TICKET),
                    headers={"Origin": "http://evil.example"})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.error_code, "forbidden_origin")
        own = "http://127.0.0.1:%d" % self.server.port
        r = request("POST", self.server.url + "/v1/jobs", json=classify_job(TICKET), headers={"Origin": own})
        self.assertEqual(r.status, 202, r)
        # Reading is not a state change: a page may not read the answer anyway (no CORS).
        r = request("GET", self.server.url + "/v1/jobs", headers={"Origin": "http://evil.example"})
        self.assertEqual(r.status, 200, r)

    def test_a_rebinding_host_is_refused(self):
        r = request("GET", self.server.url + "/v1/jobs", headers={"Host": "evil.example:%d" % self.server.port})
        self.assertEqual(r.status, 403, r)
        self.assertEqual(r.error_code, "forbidden_host")
        r = request("GET", self.server.url + "/v1/jobs", headers={"Host": "localhost:%d" % self.server.port})
        self.assertEqual(r.status, 200, r)
        # Health checks answer whatever the Host.
        r = request("GET", self.server.url + "/healthz", headers={"Host": "lb.internal"})
        self.assertEqual(r.status, 200, r)


class RefuseToStartTest(unittest.TestCase):
    def test_no_keys_and_a_public_listen_address_exit_2_saying_why(self):
        server = harness.Server(args=["--listen", "0.0.0.0:%d" % harness.free_port()])
        try:
            with self.assertRaises(harness.StartError):
                server.start()
            self.assertEqual(server.returncode, 2)
            err = server.stdout_path.read_text() + server.stderr_path.read_text()
            self.assertIn("without authentication", err)
            self.assertIn("SLUICE_ADMIN_KEY", err)
        finally:
            server.cleanup()

    def test_with_an_admin_key_a_public_listen_address_starts(self):
        port = harness.free_port()
        server = harness.Server(args=["--listen", "0.0.0.0:%d" % port], port=port,
                                env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        try:
            server.start()
            r = request("GET", server.url + "/v1/jobs")
            self.assertEqual(r.status, 401, r)
        finally:
            server.cleanup()

    def test_a_short_admin_key_is_refused(self):
        server = harness.Server(env={"SLUICE_ADMIN_KEY": "short"})
        try:
            with self.assertRaises(harness.StartError):
                server.start()
            self.assertEqual(server.returncode, 2)
            self.assertIn("at least 16", server.stdout_path.read_text() + server.stderr_path.read_text())
        finally:
            server.cleanup()


class TenantsTest(unittest.TestCase):
    """An admin key, two tenants with a key each."""

    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(env={"SLUICE_ADMIN_KEY": ADMIN_KEY}, server={"max_wait": "5s"}).start()
        cls.admin = Client(cls.server.url, headers=bearer(ADMIN_KEY))
        for tenant in ("acme", "beta"):
            r = cls.admin.post("/v1/admin/tenants", json={"id": tenant})
            assert r.status in (200, 201), r
        cls.acme = Client(cls.server.url, headers=bearer(cls.new_key("acme")))
        cls.beta = Client(cls.server.url, headers=bearer(cls.new_key("beta")))

    @classmethod
    def new_key(cls, tenant, name="test"):
        r = cls.admin.post("/v1/admin/keys", json={"tenant": tenant, "name": name})
        assert r.status == 201, r
        return r.body["key"]

    @classmethod
    def tearDownClass(cls):
        for c in (cls.admin, cls.acme, cls.beta):
            c.close()
        cls.server.cleanup()

    def assert_unknown(self, client, method, path, body=None):
        """`path` answers exactly as the same path with an id nobody has."""
        r = client.request(method, path, json=body)
        self.assertEqual(r.status, 404, (path, r))
        self.assertEqual(r.error_code, "not_found", (path, r))

    def test_no_key_and_a_wrong_key_are_401(self):
        for headers in ({}, bearer("sk-sluice-wrong"), {"Authorization": "Basic abc"}):
            r = request("GET", self.server.url + "/v1/jobs", headers=headers)
            self.assertEqual(r.status, 401, (headers, r))
            self.assertEqual(r.error_code, "unauthorized")
        self.assertEqual(request("GET", self.server.url + "/healthz").status, 200)
        self.assertEqual(request("GET", self.server.url + "/readyz").status, 200)

    def test_a_tenant_key_is_403_on_admin_routes_and_metrics(self):
        self.assertEqual(self.acme.get("/v1/admin/tenants").status, 403)
        self.assertEqual(self.acme.post("/v1/admin/keys", json={"tenant": "acme"}).status, 403)
        self.assertEqual(self.acme.get("/metrics").status, 403)
        self.assertEqual(self.admin.get("/metrics").status, 200)
        self.assertEqual(self.admin.get("/v1/stats").status, 200)

    def test_keys_are_shown_once_and_listed_without_secret(self):
        r = self.admin.post("/v1/admin/keys", json={"tenant": "acme", "name": "crm-prod"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.body["key"].startswith("sk-sluice-"), r)
        self.assertGreaterEqual(len(r.body["key"]), len("sk-sluice-") + 43)
        listed = self.admin.get("/v1/admin/keys?tenant=acme")
        self.assertEqual(listed.status, 200, listed)
        mine = [k for k in listed.body["data"] if k["id"] == r.body["id"]]
        self.assertEqual(len(mine), 1)
        self.assertNotIn("key", mine[0])
        self.assertNotIn(r.body["key"], listed.raw.decode())
        self.assertTrue(all(k["tenant"] == "acme" for k in listed.body["data"]))
        self.assertEqual(self.admin.post("/v1/admin/keys", json={"tenant": "nobody"}).status, 404)

    def test_a_revoked_key_answers_401(self):
        key = self.new_key("acme", "short-lived")
        self.assertEqual(request("GET", self.server.url + "/v1/jobs", headers=bearer(key)).status, 200)
        key_id = [k["id"] for k in self.admin.get("/v1/admin/keys?tenant=acme").body["data"]
                  if k["name"] == "short-lived"][0]
        r = self.admin.delete("/v1/admin/keys/" + key_id)
        self.assertEqual(r.status, 200, r)
        self.assertIsNotNone(r.body["revoked_at"])
        r = request("GET", self.server.url + "/v1/jobs", headers=bearer(key))
        self.assertEqual(r.status, 401, r)

    def test_tenant_patch_keeps_the_fields_not_given(self):
        r = self.admin.post("/v1/admin/tenants", json={"id": "gamma", "weight": 3, "rpm": 600})
        self.assertEqual(r.status, 201, r)
        r = self.admin.post("/v1/admin/tenants", json={"id": "gamma", "max_queued": 10})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.body["weight"], r.body["rpm"], r.body["max_queued"]), (3, 600, 10))
        r = self.admin.get("/v1/admin/tenants/gamma")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["usage"]["live_jobs"], 0)
        for bad in ({"id": "Bad Id"}, {"id": "x", "weight": 0}, {"id": "x", "rpm": -1}, {"id": "x", "nope": 1}):
            self.assertEqual(self.admin.post("/v1/admin/tenants", json=bad).status, 400, bad)

    def test_jobs_results_events_cancel_and_review_are_isolated(self):
        job = self.acme.post("/v1/jobs?wait=5s", json=classify_job(TICKET)).body
        self.assertEqual(job["status"], "done", job)
        queued = self.acme.post("/v1/jobs", json=classify_job(TICKET, run_in="1h")).body
        for job_id in (job["id"], queued["id"]):
            for path in ("/v1/jobs/%s", "/v1/jobs/%s/result", "/v1/jobs/%s/events", "/v1/jobs/%s?wait=200ms"):
                self.assert_unknown(self.beta, "GET", path % job_id)
                self.assert_unknown(self.beta, "GET", path % UNKNOWN_JOB)
            self.assert_unknown(self.beta, "POST", "/v1/jobs/%s/cancel" % job_id)
            self.assert_unknown(self.beta, "POST", "/v1/jobs/%s/review" % job_id, {"action": "reject"})
        self.assertEqual(self.acme.get("/v1/jobs/" + job["id"]).status, 200)
        ids = [j["id"] for j in self.beta.get("/v1/jobs?limit=1000").body["data"]]
        self.assertNotIn(job["id"], ids)
        self.assertNotIn(queued["id"], ids)
        self.assertIn(queued["id"], [j["id"] for j in self.acme.get("/v1/jobs?limit=1000").body["data"]])
        self.assertEqual(self.acme.post("/v1/jobs/%s/cancel" % queued["id"]).status, 200)

    def test_stats_count_only_the_tenants_own_jobs(self):
        def counted(client):
            body = client.get("/v1/stats").body
            self.assertNotIn("models", body)  # the shared providers are the operator's
            return sum(sum(q["jobs"].values()) for q in body["queues"])
        before_a, before_b = counted(self.acme), counted(self.beta)
        for i in range(3):
            self.assertEqual(self.acme.post("/v1/jobs", json=classify_job(TICKET, run_in="1h")).status, 202)
        self.assertEqual(counted(self.acme), before_a + 3)
        self.assertEqual(counted(self.beta), before_b)
        self.assertIn("models", self.admin.get("/v1/stats").body)

    def test_the_same_dedup_key_in_two_tenants_makes_two_jobs(self):
        body = classify_job(TICKET, dedup_key="order-42", run_in="1h")
        a = self.acme.post("/v1/jobs", json=body)
        b = self.beta.post("/v1/jobs", json=body)
        self.assertEqual((a.status, b.status), (202, 202), (a, b))
        self.assertNotEqual(a.body["id"], b.body["id"])
        again = self.beta.post("/v1/jobs", json=body)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.body["id"], b.body["id"])
        bulk = self.beta.post("/v1/jobs/bulk", json={"jobs": [body]})
        self.assertEqual(bulk.body["jobs"][0]["id"], b.body["id"])

    def test_files_and_batches_are_isolated(self):
        line = {"custom_id": "a", "method": "POST", "url": "/v1/jobs", "body": classify_job(TICKET)}
        data, ctype = harness.multipart({"purpose": "batch"},
                                        {"file": ("in.jsonl", (json.dumps(line) + "\n").encode(), "application/jsonl")})
        f = self.acme.request("POST", "/v1/files", data=data, headers={"Content-Type": ctype})
        self.assertEqual(f.status, 200, f)
        self.assert_unknown(self.beta, "GET", "/v1/files/" + f.body["id"])
        self.assert_unknown(self.beta, "GET", "/v1/files/" + f.body["id"] + "/content")
        body = {"input_file_id": f.body["id"], "endpoint": "/v1/jobs", "completion_window": "24h"}
        r = self.beta.post("/v1/batches", json=body)
        self.assertEqual(r.status, 404, r)
        batch = self.acme.post("/v1/batches", json=body)
        self.assertEqual(batch.status, 200, batch)
        self.assert_unknown(self.beta, "GET", "/v1/batches/" + batch.body["id"])
        self.assert_unknown(self.beta, "POST", "/v1/batches/%s/cancel" % batch.body["id"])
        self.assertEqual(self.beta.get("/v1/batches").body["data"], [])
        self.assertIn(batch.body["id"], [b["id"] for b in self.acme.get("/v1/batches").body["data"]])

    def test_the_event_stream_carries_only_the_tenants_events(self):
        acme_job = self.acme.post("/v1/jobs?wait=5s", json=classify_job(TICKET)).body
        beta_job = self.beta.post("/v1/jobs?wait=5s", json=classify_job(TICKET)).body

        def stream_ids(key):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            sock.sendall(("GET /v1/events?after=0 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n"
                          % key).encode())
            seen, deadline = b"", time.time() + 3
            sock.settimeout(0.5)
            while time.time() < deadline:
                try:
                    chunk = sock.recv(65536)
                except socket.timeout:
                    if b"job_" in seen:
                        break
                    continue
                if not chunk:
                    break
                seen += chunk
            sock.close()
            return seen.decode(errors="replace")

        text = stream_ids(self.beta.headers["Authorization"].split()[1])
        self.assertIn(beta_job["id"], text)
        self.assertNotIn(acme_job["id"], text)


class QuotasTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = harness.Server(env={"SLUICE_ADMIN_KEY": ADMIN_KEY}).start()
        cls.admin = Client(cls.server.url, headers=bearer(ADMIN_KEY))

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.server.cleanup()

    def tenant_client(self, tenant, **limits):
        r = self.admin.post("/v1/admin/tenants", json=dict(id=tenant, **limits))
        self.assertIn(r.status, (200, 201), r)
        key = self.admin.post("/v1/admin/keys", json={"tenant": tenant}).body["key"]
        return Client(self.server.url, headers=bearer(key))

    def test_requests_over_rpm_are_429_rate_limited_with_retry_after(self):
        c = self.tenant_client("slow", rpm=5)
        statuses = [c.get("/v1/jobs").status for _ in range(5)]
        self.assertEqual(statuses, [200] * 5)
        r = c.get("/v1/jobs")
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.error_code, "rate_limited")
        self.assertGreaterEqual(int(r.header("Retry-After")), 1)
        # Another tenant is not held back.
        other = self.tenant_client("fast")
        self.assertEqual(other.get("/v1/jobs").status, 200)

    def test_live_jobs_over_max_queued_are_429_quota_exceeded(self):
        c = self.tenant_client("small", max_queued=3)
        for i in range(3):
            r = c.post("/v1/jobs", json=classify_job(TICKET, run_in="1h", object_id="q%d" % i))
            self.assertEqual(r.status, 202, r)
        r = c.post("/v1/jobs", json=classify_job(TICKET, run_in="1h", object_id="q3"))
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.error_code, "quota_exceeded")
        self.assertTrue(r.header("Retry-After"))
        bulk = c.post("/v1/jobs/bulk", json={"jobs": [classify_job(TICKET, run_in="1h", object_id="b")]})
        self.assertEqual(bulk.status, 429, bulk)
        # Canceling frees the room (after the key's cached usage is read again).
        first = c.get("/v1/jobs?limit=1").body["data"][0]["id"]
        self.assertEqual(c.post("/v1/jobs/%s/cancel" % first).status, 200)
        wait_until(lambda: c.post("/v1/jobs", json=classify_job(TICKET, run_in="1h", object_id="q4")).status == 202,
                   timeout=10, message="a canceled job frees its slot of max_queued")


class BudgetTest(unittest.TestCase):
    """A tenant's monthly budget under 200 concurrent jobs at a fake price: the sum of what they
    cost never passes it; the jobs it cannot take stay queued, blocked_reason "budget"."""

    BUDGET = 10.0

    @classmethod
    def setUpClass(cls):
        cls.mock = harness.MockLlm(latency="300ms").start()
        # A dollar a thousand tokens: a classify call costs about $0.2, its worst case ~$0.4.
        models = [{"alias": "fast", "provider": "mock", "id": "gpt-4o-mini",
                   "input_usd_per_mtok": 1000.0, "output_usd_per_mtok": 1000.0}]
        cls.server = harness.Server(mock=cls.mock, models=models, env={"SLUICE_ADMIN_KEY": ADMIN_KEY}).start()
        cls.admin = Client(cls.server.url, headers=bearer(ADMIN_KEY))

    @classmethod
    def tearDownClass(cls):
        cls.admin.close()
        cls.server.cleanup()
        cls.mock.cleanup()

    def test_two_hundred_concurrent_jobs_never_overshoot_the_budget(self):
        r = self.admin.post("/v1/admin/tenants", json={"id": "spender", "monthly_budget_usd": self.BUDGET})
        self.assertEqual(r.status, 201, r)
        key = self.admin.post("/v1/admin/keys", json={"tenant": "spender"}).body["key"]
        c = Client(self.server.url, headers=bearer(key), timeout=60)
        jobs = [classify_job(TICKET + " #%d" % i, model="fast") for i in range(200)]
        r = c.post("/v1/jobs/bulk", json={"jobs": jobs})
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]

        def settled():
            page = c.get("/v1/jobs?limit=1000").body["data"]
            running = [j for j in page if j["status"] == "running"
                       or (j["status"] == "queued" and j.get("blocked_reason") != "budget")]
            return None if running else page
        page = wait_until(settled, timeout=60, message="every job is done or held by the budget")
        by_id = {j["id"]: j for j in page}
        done = [by_id[i] for i in ids if by_id[i]["status"] == "done"]
        held = [by_id[i] for i in ids if by_id[i]["status"] == "queued"]
        self.assertGreater(len(done), 0)
        self.assertGreater(len(held), 0, "the budget should not take 200 jobs at this price")
        self.assertEqual(len(done) + len(held), 200, [j["status"] for j in page])
        self.assertTrue(all(j["blocked_reason"] == "budget" for j in held))
        spent = sum(j["cost_usd"] for j in by_id.values())
        self.assertLessEqual(spent, self.BUDGET)
        usage = self.admin.get("/v1/admin/tenants/spender").body["usage"]
        self.assertLessEqual(usage["spent_usd"], self.BUDGET + 1e-9)
        self.assertAlmostEqual(usage["spent_usd"], spent, places=6)
        # A spent budget refuses new submits (and the sync path) with 429 budget_exceeded, once
        # what is left cannot take another worst case... raising it lets the held jobs run.
        r = self.admin.post("/v1/admin/tenants", json={"id": "spender", "monthly_budget_usd": 1000.0})
        self.assertEqual(r.status, 200, r)
        wait_until(lambda: all(c.get("/v1/jobs/" + j["id"]).body["status"] == "done" for j in held[:5]),
                   timeout=60, message="held jobs run once the budget is raised")
        c.close()

    def test_a_spent_budget_answers_429_on_submit_and_sync(self):
        r = self.admin.post("/v1/admin/tenants", json={"id": "broke", "monthly_budget_usd": 0.3})
        self.assertEqual(r.status, 201, r)
        key = self.admin.post("/v1/admin/keys", json={"tenant": "broke"}).body["key"]
        c = Client(self.server.url, headers=bearer(key), timeout=60)
        chat = {"model": "fast", "messages": [{"role": "user", "content": TICKET}], "max_tokens": 100}
        statuses = []
        for _ in range(60):
            r = c.post("/v1/chat/completions", json=chat)
            statuses.append(r.status)
            if r.status == 429:
                self.assertEqual(r.error_code, "budget_exceeded", r)
                self.assertTrue(r.header("Retry-After"))
                break
        self.assertIn(429, statuses)
        usage = self.admin.get("/v1/admin/tenants/broke").body["usage"]
        self.assertLessEqual(usage["spent_usd"], 0.3 + 1e-9)
        self.assertGreater(usage["spent_usd"], 0)

        # What is left cannot take another call's worst case, but the spend has not reached the
        # budget: a submit is accepted (its job will wait, held). Lowered below the spend, the
        # month is spent: submits are refused too, once the key's cached usage is read again.
        r = self.admin.post("/v1/admin/tenants", json={"id": "broke", "monthly_budget_usd": usage["spent_usd"] / 2})
        self.assertEqual(r.status, 200, r)

        def refused():
            r = c.post("/v1/jobs", json=classify_job(TICKET))
            return r if r.status == 429 else None
        r = wait_until(refused, timeout=10, message="a submit after the budget is spent is refused")
        self.assertEqual(r.error_code, "budget_exceeded")
        c.close()


class CliTest(unittest.TestCase):
    def test_offline_bootstrap_then_online_admin(self):
        server = harness.Server(env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        try:
            server.data_dir.mkdir(parents=True, exist_ok=True)
            p = cli(["tenants", "create", "acme", "--rpm", "600", "--data-dir", server.data_dir, "-o", "json"])
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["rpm"], 600)
            p = cli(["keys", "create", "--tenant", "acme", "--name", "ci", "--data-dir", server.data_dir, "-o", "json"])
            self.assertEqual(p.returncode, 0, p.stderr)
            key = json.loads(p.stdout)["key"]
            p = cli(["keys", "create", "--tenant", "nobody", "--data-dir", server.data_dir])
            self.assertEqual(p.returncode, 2, p.stdout)
            self.assertIn("no tenant nobody", p.stderr)
            server.start()
            env = {"SLUICE_SERVER": server.url, "SLUICE_API_KEY": key}
            p = cli(["submit", "--type", "classify_ticket", "--text", TICKET, "-o", "json"], env=env)
            self.assertEqual(p.returncode, 0, p.stderr)
            admin_env = {"SLUICE_SERVER": server.url, "SLUICE_ADMIN_KEY": ADMIN_KEY}
            p = cli(["tenants", "list"], env=admin_env)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("acme", p.stdout)
            p = cli(["keys", "list", "--tenant", "acme", "-o", "json"], env=admin_env)
            self.assertEqual(p.returncode, 0, p.stderr)
            key_id = json.loads(p.stdout)["data"][0]["id"]
            self.assertNotIn(key, p.stdout)
            p = cli(["tenants", "list"], env={"SLUICE_SERVER": server.url, "SLUICE_API_KEY": key})
            self.assertNotEqual(p.returncode, 0)  # a tenant key is not the admin's
            p = cli(["keys", "revoke", key_id], env=admin_env)
            self.assertEqual(p.returncode, 0, p.stderr)
            r = request("GET", server.url + "/v1/jobs", headers=bearer(key))
            self.assertEqual(r.status, 401, r)
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
