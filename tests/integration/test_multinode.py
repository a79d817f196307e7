"""Several `sluice serve` nodes on one PostgreSQL (issue 4): any node takes API calls, any node
works jobs, and the database is the only place they meet.

- kill -9 of one node mid-way through 3 000 jobs: every job ends done with exactly one result,
  none is lost (the dead node's leases run out and the others take its jobs);
- a queue's max_concurrency is a cluster-wide limit (the mock reports peak concurrency);
- a PostgreSQL restart mid-load: every acknowledged job finishes, and a submit during the outage
  is answered 503 (never 500) or accepted;
- blobs live in the shared database: uploaded to one node, readable on another, usable as a job's
  input on a third;
- `sluice migrate --store URL` is safe to run several times at once.

The server is the throwaway cluster that ctest's fixture `pg` starts (scripts/pg-test-cluster.sh):
SLUICE_TEST_PG_URL_FILE names the file holding its URL. Each test class works in a database of
its own. The restart test restarts a cluster of its own, in its temp dir, so tests that share
the fixture's cluster never see it go down.
"""

import hashlib
import http.client
import os
import shutil
import subprocess
import tempfile
import threading
import unittest
import urllib.parse
import uuid
from pathlib import Path

import harness
from harness import Client, classify_job, submit_bulk, wait_until

TICKET = "I was charged twice for the same purchase"
PG_URL_FILE = os.environ.get("SLUICE_TEST_PG_URL_FILE", "")
CLUSTER_SCRIPT = harness.REPO / "scripts" / "pg-test-cluster.sh"


def fixture_url():
    """The fixture cluster's URL, or "" when this run has none."""
    if not PG_URL_FILE or not Path(PG_URL_FILE).is_file():
        return ""
    return Path(PG_URL_FILE).read_text(encoding="utf-8").strip()


def with_database(url, name):
    """`url` naming database `name` instead of its own."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path="/" + name))


def psql(url, sql):
    """Runs `sql`; its output (unaligned, tuples only)."""
    r = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                       capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


def running_under(db_url, node):
    """How many jobs run under `node`'s leases (lease owners are host:pid:nonce)."""
    return int(psql(db_url, "SELECT count(*) FROM jobs WHERE status = 1 AND lease_owner LIKE '%%:%d:%%'"
                    % node.pid))


def create_database(base_url):
    """A fresh, empty database on base_url's server; returns its URL."""
    name = "sluice_it_" + uuid.uuid4().hex[:12]
    psql(base_url, "CREATE DATABASE %s" % name)
    return with_database(base_url, name)


def drop_database(url):
    name = urllib.parse.urlsplit(url).path.lstrip("/")
    psql(with_database(url, "postgres"), "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)


def list_all(server, status):
    """Every job with `status`, paging through GET /v1/jobs."""
    jobs = []
    after = None
    with server.client() as c:
        while True:
            path = "/v1/jobs?status=%s&limit=1000" % status + ("&after=" + after if after else "")
            r = c.get(path)
            if r.status != 200:
                raise AssertionError("GET %s answered %r" % (path, r))
            jobs += r.body["data"]
            after = r.body.get("next")
            if not after:
                return jobs


def check_one_result_each(test, server, ids):
    """Every job has its result, holding exactly one successful attempt."""
    with server.client() as c:
        for job_id in ids:
            res = c.get("/v1/jobs/%s/result" % job_id)
            test.assertEqual(res.status, 200, (job_id, res))
            test.assertEqual(res.body["job_id"], job_id)
            oks = [a for a in res.body["attempts"] if a["outcome"] == "ok"]
            test.assertEqual(len(oks), 1, (job_id, res.body["attempts"]))


class MultiNodeTest(harness.IntegrationTest):
    """A database of its own per class; start_nodes() runs nodes on it."""

    base_url = ""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.base_url = cls.server_url()
        if not cls.base_url:
            raise unittest.SkipTest("no PostgreSQL: SLUICE_TEST_PG_URL_FILE is unset or names no "
                                    "file (run through ctest, whose fixture `pg` starts one)")
        cls.db_url = create_database(cls.base_url)

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "db_url", None):
            try:
                drop_database(cls.db_url)
            except (subprocess.SubprocessError, OSError):
                pass  # the cluster goes away with the fixture anyway
        super().tearDownClass()

    @classmethod
    def server_url(cls):
        return fixture_url()

    def start_nodes(self, n, mock, **kw):
        server = dict(kw.pop("server", {}))
        server["store"] = self.db_url
        return [self.start_server(mock=mock, server=server, **kw) for _ in range(n)]


class KillOneNodeTest(MultiNodeTest):
    def test_kill9_of_one_node_loses_no_job_and_runs_each_once(self):
        mock = self.start_mock(latency="200ms", jitter="100ms")
        nodes = self.start_nodes(3, mock)
        total, per_bulk = 3000, 100
        bulks = [[classify_job("%s, order %d" % (TICKET, b * per_bulk + i)) for i in range(per_bulk)]
                 for b in range(total // per_bulk)]
        ids = []

        def submit(bulk, node):
            r = submit_bulk(node, bulk)
            self.assertEqual(r.status, 200, r)
            got = [j["id"] for j in r.body["jobs"]]
            self.assertEqual(len(got), len(bulk), r.body)
            ids.extend(got)

        # The first half round-robin over all three nodes.
        half = len(bulks) // 2
        for b in range(half):
            submit(bulks[b], nodes[b % 3])
        # Crash one node while jobs are done, running and queued all over the cluster.
        victim, live = nodes[2], nodes[:2]
        wait_until(lambda: mock.stats()["outcomes"].get("ok", 0) >= 300 and running_under(self.db_url, victim) >= 8,
                   timeout=30, message="some answers in and calls in flight on the victim")
        self.assertEqual(victim.kill9(), -9)
        # The second half round-robin over the two that are left.
        for b in range(half, len(bulks)):
            submit(bulks[b], live[b % 2])
        self.assertEqual(len(set(ids)), total)

        wait_until(lambda: len(list_all(live[0], "done")) == total, timeout=120, interval=0.5,
                   message=lambda: "%d jobs done of %d" % (len(list_all(live[0], "done")), total))
        done_jobs = list_all(live[1], "done")
        done = {j["id"] for j in done_jobs}
        self.assertEqual(done, set(ids))
        # The victim's jobs ran again elsewhere once its leases ran out.
        self.assertGreater(len([j for j in done_jobs if j["attempt"] > 1]), 0)
        self.assertEqual(list_all(live[0], "running"), [])
        self.assertEqual(list_all(live[0], "queued"), [])
        check_one_result_each(self, live[1], ids)
        self.assertGreaterEqual(mock.stats()["outcomes"]["ok"], total)


class ClusterQueueLimitTest(MultiNodeTest):
    def test_queue_max_concurrency_holds_across_nodes(self):
        mock = self.start_mock(latency="200ms")
        nodes = self.start_nodes(3, mock, queues=[{"name": "capped", "max_concurrency": 4}])
        ids = []
        for b in range(4):
            r = submit_bulk(nodes[b % 3], [classify_job("%s, capped %d-%d" % (TICKET, b, i), queue="capped")
                                           for i in range(10)])
            self.assertEqual(r.status, 200, r)
            ids += [j["id"] for j in r.body["jobs"]]
        self.assertEqual(len(ids), 40)

        wait_until(lambda: len(list_all(nodes[0], "done")) == 40, timeout=60, interval=0.2,
                   message="the 40 capped jobs to finish")
        stats = mock.stats()
        # Each node alone would run 4 at once: three of them would run up to 12 without the
        # cluster-wide cap.
        self.assertLessEqual(stats["peak_in_flight"], 4, stats)
        self.assertGreater(stats["peak_in_flight"], 1, stats)
        check_one_result_each(self, nodes[1], ids)


class PostgresRestartTest(MultiNodeTest):
    """On a cluster of its own: the fixture's cluster is shared with tests running alongside."""

    cluster_dir = None

    @classmethod
    def server_url(cls):
        if not fixture_url():
            return ""  # no PostgreSQL in this run: skip like the others
        parent = Path(tempfile.mkdtemp(prefix="sluice-it-pg-"))
        parent.chmod(0o755)  # the server runs as `postgres` when we are root: it must get in
        cls.cluster_dir = parent / "cluster"
        return cls.cluster("start").strip()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        if cls.cluster_dir:
            cls.cluster("stop")
            shutil.rmtree(cls.cluster_dir.parent, ignore_errors=True)

    @classmethod
    def cluster(cls, command):
        r = subprocess.run([str(CLUSTER_SCRIPT), command, str(cls.cluster_dir)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise AssertionError("pg-test-cluster.sh %s failed: %s" % (command, r.stderr))
        return r.stdout

    def test_acknowledged_jobs_survive_a_postgres_restart(self):
        mock = self.start_mock(latency="200ms")
        nodes = self.start_nodes(2, mock)
        acked = []           # ids whose 202 arrived
        codes = {}           # status code -> count
        stop = threading.Event()
        lock = threading.Lock()

        def submitter(node, tag):
            with Client(node.url, timeout=30.0) as c:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        r = c.post("/v1/jobs", json=classify_job("%s, %s %d" % (TICKET, tag, i)))
                    except (OSError, http.client.HTTPException):
                        continue  # the node itself stays up; a reset connection is retried
                    with lock:
                        codes[r.status] = codes.get(r.status, 0) + 1
                        if r.status == 202:
                            acked.append(r.body["id"])

        threads = [threading.Thread(target=submitter, args=(n, "node%d" % k), daemon=True)
                   for k, n in enumerate(nodes)]
        for t in threads:
            t.start()
        try:
            wait_until(lambda: len(acked) >= 100 and mock.stats()["outcomes"].get("ok", 0) >= 20,
                       timeout=30, message="jobs acknowledged and some done")
            self.cluster("halt")
            wait_until(lambda: codes.get(503, 0) >= 2, timeout=30,
                       message=lambda: "submits to be refused while PostgreSQL is down (%r)" % codes)
            self.cluster("resume")
            with lock:
                after_resume = len(acked)
            wait_until(lambda: len(acked) >= after_resume + 100, timeout=60,
                       message="submits to be accepted again")
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=30)

        self.assertEqual(set(codes) - {202, 503}, set(), codes)
        ids = list(acked)
        self.assertEqual(len(set(ids)), len(ids))

        def all_done():
            done = {j["id"] for j in list_all(nodes[0], "done")}
            return set(ids) <= done

        wait_until(all_done, timeout=120, interval=0.5, message="every acknowledged job to finish")
        check_one_result_each(self, nodes[1], ids)


class SharedBlobsTest(MultiNodeTest):
    def test_a_blob_uploaded_to_one_node_serves_every_node(self):
        mock = self.start_mock()
        nodes = self.start_nodes(3, mock)
        # Binary content (NULs, bytes that are not UTF-8) must come back byte for byte.
        content = bytes(range(256)) * 4 + uuid.uuid4().bytes
        digest = "sha256:" + hashlib.sha256(content).hexdigest()
        with nodes[0].client() as c:
            up = c.post("/v1/blobs", data=content, headers={"Content-Type": "application/octet-stream"})
        self.assertIn(up.status, (200, 201), up)
        self.assertEqual((up.body["id"], up.body["bytes"]), (digest, len(content)))
        with nodes[1].client() as c:
            got = c.get("/v1/blobs/" + digest)
            self.assertEqual(got.status, 200, got)
            self.assertEqual(got.raw, content)
            self.assertEqual(c.get("/v1/blobs/sha256:" + "0" * 64).status, 404)
            # Uploading the same bytes to another node stores nothing new.
            again = c.post("/v1/blobs", data=content, headers={"Content-Type": "application/octet-stream"})
        self.assertIn(again.status, (200, 201), again)
        self.assertEqual(again.body["id"], digest)
        self.assertEqual(psql(self.db_url, "SELECT count(*) FROM blobs WHERE id = '%s'" % digest), "1")

        # A text blob, uploaded to node 1, as the input of a job submitted to node 3.
        text = ("Ticket %s: %s" % (uuid.uuid4().hex, TICKET)).encode("utf-8")
        with nodes[0].client() as c:
            up = c.post("/v1/blobs", data=text, headers={"Content-Type": "text/plain"})
        self.assertIn(up.status, (200, 201), up)
        with nodes[2].client() as c:
            job = c.post("/v1/jobs", json={"type": "classify_ticket", "input": {"blob": up.body["id"]}})
        self.assertEqual(job.status, 202, job)
        job_id = job.body["id"]
        wait_until(lambda: harness.get_job(nodes[2], job_id)["status"] in ("done", "failed", "dead"),
                   timeout=30, message="the blob job to finish")
        done = harness.get_job(nodes[1], job_id)
        self.assertEqual(done["status"], "done", done)


class MigrateCommandTest(MultiNodeTest):
    def migrate(self, *args):
        return subprocess.Popen([harness.SLUICE_BIN, "migrate", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)

    def test_concurrent_migrations_of_a_fresh_database_all_succeed(self):
        # db_url is a fresh, empty database: nothing has opened it yet.
        first, second = self.migrate("--store", self.db_url), self.migrate("--store", self.db_url)
        outputs = [p.communicate(timeout=60) for p in (first, second)]
        for p, (out, err) in zip((first, second), outputs):
            self.assertEqual(p.returncode, 0, (out, err))
        versions = {out.strip() for out, _ in outputs}
        self.assertEqual(len(versions), 1, versions)
        version = versions.pop()
        self.assertRegex(version, r"^schema version \d+$")
        # Nothing left to do the third time; the version is the one the database records.
        out, err = self.migrate("--store", self.db_url).communicate(timeout=60)
        self.assertEqual(out.strip(), version, err)
        recorded = psql(self.db_url, "SELECT max(version) FROM schema_migrations")
        self.assertEqual(version, "schema version " + recorded)
        # Each migration was applied once. (Numbers need not be consecutive: one may be missing
        # while the parallel change that owns it is not merged; the runner applies it later.)
        listed = [int(v) for v in psql(self.db_url, "SELECT version FROM schema_migrations ORDER BY version").split()]
        self.assertEqual(len(listed), len(set(listed)), listed)
        self.assertEqual(listed[-1], int(recorded), listed)
        self.assertGreaterEqual(len(listed), int(recorded) - 1, listed)

    def test_an_unreachable_store_exits_2(self):
        p = self.migrate("--store", "postgres://postgres@127.0.0.1:%d/nope" % harness.free_port())
        out, err = p.communicate(timeout=60)
        self.assertEqual(p.returncode, 2, (out, err))
        self.assertIn("store", err)


class KeyRevocationTest(MultiNodeTest):
    """API keys live in the shared store: a key made on one node works on every node, and a key
    revoked on one node answers 401 on every other within 5 s (API.md)."""

    ADMIN = "admin-" + "k" * 40

    def test_a_key_revoked_on_one_node_stops_working_on_the_other(self):
        mock = self.start_mock()
        a, b = self.start_nodes(2, mock, env={"SLUICE_ADMIN_KEY": self.ADMIN})
        admin = {"Authorization": "Bearer " + self.ADMIN}
        r = harness.request("POST", a.url + "/v1/admin/tenants", json={"id": "acme"}, headers=admin)
        self.assertEqual(r.status, 201, r)
        r = harness.request("POST", a.url + "/v1/admin/keys", json={"tenant": "acme"}, headers=admin)
        self.assertEqual(r.status, 201, r)
        key, key_id = r.body["key"], r.body["id"]
        mine = {"Authorization": "Bearer " + key}
        job = harness.request("POST", b.url + "/v1/jobs", json=classify_job(TICKET), headers=mine)
        self.assertEqual(job.status, 202, job)
        self.assertEqual(harness.request("GET", a.url + "/v1/jobs/" + job.body["id"], headers=mine).status, 200)
        r = harness.request("DELETE", a.url + "/v1/admin/keys/" + key_id, headers=admin)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(harness.request("GET", a.url + "/v1/jobs", headers=mine).status, 401)
        wait_until(lambda: harness.request("GET", b.url + "/v1/jobs", headers=mine).status == 401,
                   timeout=5.0, message="the revoked key answers 401 on the other node")


if __name__ == "__main__":
    unittest.main()
