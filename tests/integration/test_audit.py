"""The tamper-evident audit log (API.md "Audit log"), real processes.

Embedded store: jobs of two tenants (one masking PII), synchronous calls, review decisions and
key and tenant changes each leave one record, in one hash chain that `sluice audit verify`
walks (exit 0) with the server stopped; an export verifies on its own; a record changed in the
database, or a line changed in the export, fails verify (exit 1) naming that record. Records
hold no prompt or answer text and no masked value; a tenant's key sees only its own records.

PostgreSQL: two nodes on one database under concurrent load (submits, bulk, sync calls on both
nodes at once, each node sealing): one chain with no gap and no fork (seq 1..N, every link
right), exactly one model_call record per attempt; a row changed behind the store's back fails
`sluice audit verify --store URL`.
"""

import concurrent.futures
import json
import sqlite3
import subprocess
import unittest

import harness
from harness import classify_job, request, submit_bulk, submit_ok, wait_job, wait_until
from test_multinode import MultiNodeTest, psql, running_under

ADMIN_KEY = "admin-" + "d" * 40
SECRET_TEXT = "Zebra-violet: I was charged twice for the same purchase"  # never in a record
EMAIL = "dana.k@example.kz"


def bearer(key):
    return {"Authorization": "Bearer " + key}


def run_sluice(*args):
    return subprocess.run([str(harness.SLUICE_BIN), *args], capture_output=True, text=True,
                          timeout=120)


def audit_records(url, key, **query):
    """Every record the key may see, paging through GET /v1/audit."""
    records, after = [], 0
    while True:
        q = dict(query, after=after, limit=1000)
        qs = "&".join("%s=%s" % kv for kv in q.items())
        r = request("GET", url + "/v1/audit?" + qs, headers=bearer(key))
        if r.status != 200:
            raise AssertionError("GET /v1/audit answered %r" % (r,))
        records += r.body["data"]
        if r.body["next"] is None:
            return records
        after = r.body["next"]


def attempts_of(url, key, job_ids):
    n = 0
    for job_id in job_ids:
        r = request("GET", url + "/v1/jobs/%s/result" % job_id, headers=bearer(key))
        if r.status == 200:
            n += len(r.body["attempts"])
    return n


class EmbeddedAuditTest(harness.IntegrationTest):
    def setUp(self):
        super().setUp()
        self.mock = self.start_mock(latency="5ms")
        self.server = self.start_server(mock=self.mock, env={"SLUICE_ADMIN_KEY": ADMIN_KEY})
        self.url = self.server.url
        self.keys, self.key_ids = {}, {}
        for tenant, masks in (("acme", True), ("globex", False)):
            r = request("POST", self.url + "/v1/admin/tenants", headers=bearer(ADMIN_KEY),
                        json={"id": tenant, "mask_pii": masks})
            self.assertEqual(r.status, 201, r)
            r = request("POST", self.url + "/v1/admin/keys", headers=bearer(ADMIN_KEY),
                        json={"tenant": tenant, "name": "audit"})
            self.assertEqual(r.status, 201, r)
            self.keys[tenant], self.key_ids[tenant] = r.body["key"], r.body["id"]

    def run_work(self):
        """Jobs, sync calls, a review, a tenant update and a revoked key; returns the job ids
        per tenant."""
        ids = {}
        text = SECRET_TEXT + ", write to " + EMAIL
        for tenant in self.keys:
            bodies = [classify_job(text + " #%d" % i) for i in range(20)]
            r = submit_bulk(self.server, bodies, headers=bearer(self.keys[tenant]))
            self.assertEqual(r.status, 200, r)
            ids[tenant] = [j["id"] for j in r.body["jobs"]]
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda i: request(
                "POST", self.url + "/v1/chat/completions", headers=bearer(self.keys["acme"]),
                json={"model": "fast", "messages": [{"role": "user", "content": text}]}), range(8)))
        for a in answers:
            self.assertEqual(a.status, 200, a)
        for _ in range(2):  # globex masks nothing of its own: these go as they are
            a = request("POST", self.url + "/v1/chat/completions", headers=bearer(self.keys["globex"]),
                        json={"model": "fast", "messages": [{"role": "user", "content": text}]})
            self.assertEqual(a.status, 200, a)
        for tenant, job_ids in ids.items():
            for job_id in job_ids:
                job = wait_job(self.server, job_id, headers=bearer(self.keys[tenant]))
                self.assertIn(job["status"], ("done", "review"), job)  # either way, calls made
        # One job to review: the mock's next answer is schema-invalid, and one attempt is all.
        self.assertTrue(self.mock.configure({"script": "garbage_content*1"})["script"])
        job = submit_ok(self.server, classify_job(text, max_attempts=1),
                        headers=bearer(self.keys["globex"]))
        job = wait_job(self.server, job["id"], headers=bearer(self.keys["globex"]))
        self.assertEqual(job["status"], "review", job)
        r = request("POST", self.url + "/v1/jobs/%s/review" % job["id"], headers=bearer(self.keys["globex"]),
                    json={"action": "reject", "reason": "not a real ticket"})
        self.assertEqual(r.status, 200, r)
        ids["globex"].append(job["id"])
        r = request("POST", self.url + "/v1/admin/tenants", headers=bearer(ADMIN_KEY),
                    json={"id": "globex", "rpm": 6000})
        self.assertEqual(r.status, 200, r)
        r = request("POST", self.url + "/v1/admin/keys", headers=bearer(ADMIN_KEY),
                    json={"tenant": "globex", "name": "short-lived"})
        self.assertEqual(r.status, 201, r)
        self.revoked = r.body["id"]
        r = request("DELETE", self.url + "/v1/admin/keys/" + self.revoked, headers=bearer(ADMIN_KEY))
        self.assertEqual(r.status, 200, r)
        return ids

    def test_one_chain_of_every_call_review_key_and_tenant_change_that_verify_walks(self):
        ids = self.run_work()
        calls = {t: attempts_of(self.url, self.keys[t], ids[t]) for t in ids}
        calls["acme"] += 8  # the sync calls
        calls["globex"] += 2
        # + tenant.create x2, tenant.update x1, key.create x3, key.revoke x1, review.reject x1
        want = sum(calls.values()) + 2 + 1 + 3 + 1 + 1
        wait_until(lambda: len(audit_records(self.url, ADMIN_KEY)) == want, timeout=15,
                   message="the audit log never held %d records" % want)
        records = audit_records(self.url, ADMIN_KEY)

        self.assertEqual([r["seq"] for r in records], list(range(1, want + 1)))
        by_action = {}
        for r in records:
            by_action.setdefault(r["action"], []).append(r)
        self.assertEqual(len(by_action["model_call"]), sum(calls.values()))
        self.assertEqual(len(by_action["tenant.create"]), 2)
        self.assertEqual(len(by_action["key.create"]), 3)
        self.assertEqual([r["key_id"] for r in by_action["key.revoke"]], [self.revoked])
        self.assertEqual(by_action["tenant.update"][0]["changes"], {"rpm": 6000})
        reject = by_action["review.reject"][0]
        self.assertEqual(reject["actor"], self.key_ids["globex"])
        self.assertEqual(reject["tenant"], "globex")
        self.assertEqual(reject["reason"], "not a real ticket")
        for r in by_action["model_call"]:
            self.assertIn(r["actor"], ("system", self.key_ids["acme"], self.key_ids["globex"]), r)
            for field in ("provider", "model", "model_alias", "usage", "cost_usd", "outcome"):
                self.assertIn(field, r)
            # classify_ticket v2 masks, and so does everything of acme: counts, never values.
            if r["actor"] == self.key_ids["globex"]:
                self.assertNotIn("pii", r)
            else:
                self.assertEqual(r["pii"], {"masked": {"EMAIL": 1}}, r)
        sync = [r for r in by_action["model_call"] if r["actor"] == self.key_ids["acme"]]
        self.assertEqual(len(sync), 8)
        self.assertTrue(all(r["task_type"] == "sync" and r["job_id"] == "" for r in sync))
        self.assertEqual(len([r for r in by_action["model_call"]
                              if r["actor"] == self.key_ids["globex"]]), 2)
        for r in records:
            text = json.dumps(r, ensure_ascii=False)
            self.assertNotIn("Zebra", text)
            self.assertNotIn(EMAIL, text)

        # A tenant's key sees its own records only, and filters work.
        mine = audit_records(self.url, self.keys["globex"])
        self.assertTrue(mine and all(r["tenant"] == "globex" for r in mine))
        self.assertEqual(len(mine), len([r for r in records if r["tenant"] == "globex"]))
        one = audit_records(self.url, self.keys["globex"], job_id=ids["globex"][0])
        self.assertEqual({r["job_id"] for r in one}, {ids["globex"][0]})
        self.assertEqual(audit_records(self.url, self.keys["globex"], job_id=ids["acme"][0]), [])
        self.assertEqual(len(audit_records(self.url, ADMIN_KEY, action="key.create")), 3)
        r = request("GET", self.url + "/v1/audit?limit=0", headers=bearer(ADMIN_KEY))
        self.assertEqual(r.status, 400, r)

        # verify walks the store with the server stopped; an export verifies on its own.
        self.server.stop()
        data_dir = str(self.server.data_dir)
        v = run_sluice("audit", "verify", "--data-dir", data_dir)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("audit chain ok: %d records" % want, v.stdout)
        export = self.tmp_dir / "audit.jsonl"
        e = run_sluice("audit", "export", "--data-dir", data_dir, "-o", str(export))
        self.assertEqual(e.returncode, 0, e.stderr)
        lines = export.read_text(encoding="utf-8").splitlines()
        self.assertEqual(len(lines), want)
        self.assertEqual(json.loads(lines[0]), records[0])
        v = run_sluice("audit", "verify", "--file", str(export))
        self.assertEqual(v.returncode, 0, v.stderr)
        # A span of it verifies too: the export is contiguous in the chain.
        first = records[0]["at"][:10]
        e = run_sluice("audit", "export", "--data-dir", data_dir, "--since", first, "-o",
                       str(self.tmp_dir / "span.jsonl"))
        self.assertEqual(e.returncode, 0, e.stderr)
        self.assertEqual(run_sluice("audit", "verify", "--file", str(self.tmp_dir / "span.jsonl")).returncode, 0)

        # A changed line of the export fails, naming the record.
        tampered = list(lines)
        tampered[9] = tampered[9].replace('"outcome":"ok"', '"outcome":"no"')
        self.assertNotEqual(tampered[9], lines[9])
        (self.tmp_dir / "tampered.jsonl").write_text("\n".join(tampered) + "\n", encoding="utf-8")
        v = run_sluice("audit", "verify", "--file", str(self.tmp_dir / "tampered.jsonl"))
        self.assertEqual(v.returncode, 1, v.stdout)
        self.assertIn("audit record 10", v.stderr)
        # A dropped line too.
        (self.tmp_dir / "gap.jsonl").write_text("\n".join(lines[:4] + lines[5:]) + "\n", encoding="utf-8")
        v = run_sluice("audit", "verify", "--file", str(self.tmp_dir / "gap.jsonl"))
        self.assertEqual(v.returncode, 1, v.stdout)
        self.assertIn("audit record 6", v.stderr)

        # A record changed in the database fails verify on the store, naming it.
        db = sqlite3.connect(str(self.server.data_dir / "sluice.db"))
        db.execute("UPDATE audit_log SET record = replace(record, '\"rpm\":6000', '\"rpm\":1') "
                   "WHERE action = 'tenant.update'")
        db.commit()
        seq = db.execute("SELECT seq FROM audit_log WHERE action = 'tenant.update'").fetchone()[0]
        db.close()
        v = run_sluice("audit", "verify", "--data-dir", data_dir)
        self.assertEqual(v.returncode, 1, v.stdout)
        self.assertIn("audit record %d" % seq, v.stderr)

    def test_a_crash_loses_no_record_of_a_call_and_a_shell_chains_its_own(self):
        bodies = [classify_job(SECRET_TEXT + " #%d" % i) for i in range(300)]
        r = submit_bulk(self.server, bodies, headers=bearer(self.keys["acme"]))
        self.assertEqual(r.status, 200, r)
        ids = [j["id"] for j in r.body["jobs"]]
        # Kill -9 while jobs finish: whatever committed has its entry, sealed or not.
        wait_until(lambda: len(audit_records(self.url, ADMIN_KEY, action="model_call")) >= 20,
                   timeout=15)
        self.server.kill9()
        # A shell on the stopped store (API.md "Tenants") chains its record like a server.
        c = run_sluice("tenants", "create", "offline", "--data-dir", str(self.server.data_dir))
        self.assertEqual(c.returncode, 0, c.stderr)
        self.server.restart()
        for job_id in ids:
            self.assertIn(wait_job(self.server, job_id, headers=bearer(self.keys["acme"]))["status"],
                          ("done", "review"))
        calls = attempts_of(self.url, self.keys["acme"], ids)
        wait_until(lambda: len(audit_records(self.url, ADMIN_KEY, action="model_call")) == calls,
                   timeout=15, message="not one record per call after the crash")
        created = audit_records(self.url, ADMIN_KEY, action="tenant.create")
        self.assertEqual([r["tenant"] for r in created], ["acme", "globex", "offline"])
        self.assertEqual(created[-1]["actor"], "admin")
        self.server.stop()
        v = run_sluice("audit", "verify", "--data-dir", str(self.server.data_dir))
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertNotIn("not sealed", v.stdout)

    def test_with_audit_off_nothing_is_recorded(self):
        self.server.stop()
        server = self.start_server(mock=self.mock, tables={"audit": {"enabled": False}})
        job = submit_ok(server, classify_job("I was charged twice for the same purchase"))
        self.assertEqual(wait_job(server, job["id"])["status"], "done")
        r = request("GET", server.url + "/v1/audit")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body["data"], [])


class PostgresAuditTest(MultiNodeTest):
    def test_two_nodes_under_load_make_one_chain_without_gaps_or_forks(self):
        mock = self.start_mock(latency="2ms")
        nodes = self.start_nodes(2, mock)
        tickets = [classify_job("ticket %d: my card was charged twice" % i) for i in range(600)]

        def submit_half(k):
            node = nodes[k % 2]
            ids = []
            for start in range(k * 100, (k + 1) * 100, 50):
                r = submit_bulk(node, tickets[start:start + 50])
                assert r.status == 200, r
                ids += [j["id"] for j in r.body["jobs"]]
            return ids

        def sync_calls(k):
            node = nodes[k % 2]
            for _ in range(20):
                r = request("POST", node.url + "/v1/chat/completions",
                            json={"model": "fast", "messages": [{"role": "user", "content": "hi"}]})
                assert r.status == 200, r
            return 20

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            submits = [pool.submit(submit_half, k) for k in range(6)]
            syncs = [pool.submit(sync_calls, k) for k in range(4)]
            ids = [i for f in submits for i in f.result()]
            sync_total = sum(f.result() for f in syncs)
        for job_id in ids:
            self.assertEqual(wait_job(nodes[0], job_id, timeout=60)["status"], "done")
        attempts = int(psql(self.db_url, "SELECT count(*) FROM attempts"))
        want = attempts + sync_total

        def sealed():
            return int(psql(self.db_url, "SELECT count(*) FROM audit_log"))
        wait_until(lambda: sealed() == want, timeout=30,
                   message="the chain never held %d records" % want)
        self.assertEqual(psql(self.db_url, "SELECT count(*) FROM audit_pending"), "0")
        self.assertEqual(psql(self.db_url, "SELECT min(seq) || ' ' || max(seq) FROM audit_log"),
                         "1 %d" % want)
        # Exactly one record per attempt: no call recorded twice, none missed.
        self.assertEqual(psql(self.db_url,
                              "SELECT count(*) FROM (SELECT job_id, record::json->>'attempt' "
                              "FROM audit_log WHERE job_id <> '' GROUP BY 1, 2 "
                              "HAVING count(*) > 1) AS twice"), "0")
        self.assertEqual(int(psql(self.db_url, "SELECT count(DISTINCT hash) FROM audit_log")), want)

        v = run_sluice("audit", "verify", "--store", self.db_url)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("audit chain ok: %d records (seq 1 to %d)" % (want, want), v.stdout)

        psql(self.db_url, "UPDATE audit_log SET record = replace(record, '\"outcome\":\"ok\"', "
                          "'\"outcome\":\"no\"') WHERE seq = 42")
        v = run_sluice("audit", "verify", "--store", self.db_url)
        self.assertEqual(v.returncode, 1, v.stdout)
        self.assertIn("audit record 42", v.stderr)


class PostgresAuditCrashTest(MultiNodeTest):
    def test_a_node_killed_mid_load_leaves_no_gap_and_no_call_unrecorded(self):
        mock = self.start_mock(latency="200ms", jitter="100ms")
        nodes = self.start_nodes(2, mock)
        ids = []
        for b in range(20):
            r = submit_bulk(nodes[b % 2], [classify_job("crash %d-%d: charged twice" % (b, i))
                                           for i in range(100)])
            self.assertEqual(r.status, 200, r)
            ids += [j["id"] for j in r.body["jobs"]]
        victim, survivor = nodes[1], nodes[0]
        wait_until(lambda: mock.stats()["outcomes"].get("ok", 0) >= 100 and running_under(self.db_url, victim) >= 4,
                   timeout=30, message="answers in and calls in flight on the victim")
        self.assertEqual(victim.kill9(), -9)
        for job_id in ids:
            self.assertEqual(wait_job(survivor, job_id, timeout=60)["status"], "done")
        want = int(psql(self.db_url, "SELECT count(*) FROM attempts"))
        wait_until(lambda: int(psql(self.db_url, "SELECT count(*) FROM audit_log")) == want,
                   timeout=30, message="one sealed record per recorded attempt")
        self.assertEqual(psql(self.db_url, "SELECT count(*) FROM audit_pending"), "0")
        v = run_sluice("audit", "verify", "--store", self.db_url)
        self.assertEqual(v.returncode, 0, v.stderr)
        self.assertIn("audit chain ok: %d records (seq 1 to %d)" % (want, want), v.stdout)


if __name__ == "__main__":
    unittest.main()
