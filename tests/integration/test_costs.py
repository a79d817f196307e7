"""The monthly costs report (API.md "Costs report"), real processes: `sluice serve` with two
tenants and `sluice mock-llm` reporting cached and reasoning tokens.

Jobs (task types and chat) and synchronous calls of both tenants run on aliases with and without
cached/reasoning prices and one without any price; the expected figures are computed here from
the result records' attempts and the sync answers' call records, and the report must equal them
exactly (integer nano-USD), per tenant, model and task type, in USD and KZT; `sluice report
costs` prints the same as a table and as CSV. A tenant's key sees only its tenant, the admin
every tenant; an unknown currency and a malformed month answer 400.
"""

import csv
import datetime
import io
import os
import subprocess
import unittest
from collections import defaultdict

import harness
from harness import Client, classify_job, get_result, request, wait_job, wait_until

ADMIN_KEY = "admin-" + "c" * 40
CACHED_SHARE = 0.5
REASONING_SHARE = 0.25
KZT = 520.0

MODELS = [
    # cached and reasoning tokens at prices of their own
    {"alias": "fast", "provider": "mock", "id": "gpt-4o-mini", "input_usd_per_mtok": 0.15,
     "output_usd_per_mtok": 0.60, "cached_input_usd_per_mtok": 0.075, "reasoning_usd_per_mtok": 1.2},
    # no such prices: the input and output prices apply to them
    {"alias": "strong", "provider": "mock", "id": "gpt-4o", "input_usd_per_mtok": 2.5,
     "output_usd_per_mtok": 10.0},
    # no price at all: its calls are unpriced
    {"alias": "free", "provider": "mock", "id": "gpt-free"},
]
PRICES = {m["alias"]: m for m in MODELS}


def bearer(key):
    return {"Authorization": "Bearer " + key}


def nanos(cost_usd):
    return round(cost_usd * 1e9)


def expected_nanos(alias, usage):
    """What a call of `alias` with this usage costs, in nano-USD, by the pricing rules."""
    m = PRICES[alias]
    inp = m.get("input_usd_per_mtok", 0)
    out = m.get("output_usd_per_mtok", 0)
    cached_price = m.get("cached_input_usd_per_mtok", inp)
    reasoning_price = m.get("reasoning_usd_per_mtok", out)
    p, c = usage["prompt_tokens"], usage["completion_tokens"]
    pc, cr = usage.get("cached_tokens", 0), usage.get("reasoning_tokens", 0)
    return round(((p - pc) * inp + pc * cached_price + (c - cr) * out + cr * reasoning_price) * 1e3)


def money(n):
    return "%d.%09d" % (n // 10**9, n % 10**9)


class Expected:
    """Figures summed the way the report must sum them."""

    FIELDS = ("calls", "prompt_tokens", "completion_tokens", "cached_tokens", "reasoning_tokens",
              "cost_nano_usd", "unpriced_calls")

    def __init__(self):
        self.total = defaultdict(int)
        self.by_model = defaultdict(lambda: defaultdict(int))
        self.by_type = defaultdict(lambda: defaultdict(int))
        self.jobs = set()

    def add(self, task_type, call, job_id=None):
        usage = call["usage"]
        figures = {"calls": 1, "prompt_tokens": usage["prompt_tokens"],
                   "completion_tokens": usage["completion_tokens"],
                   "cached_tokens": usage.get("cached_tokens", 0),
                   "reasoning_tokens": usage.get("reasoning_tokens", 0),
                   "cost_nano_usd": nanos(call["cost_usd"]),
                   "unpriced_calls": 1 if call.get("unpriced") else 0}
        key = (call["model_alias"], call["provider"], call["model"])
        for k, v in figures.items():
            self.total[k] += v
            self.by_model[key][k] += v
            self.by_type[task_type][k] += v
        if job_id:
            self.jobs.add(job_id)


class CostsReportTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
        cls.mock = harness.MockLlm(cached_share=CACHED_SHARE, reasoning_share=REASONING_SHARE).start()
        cls.server = harness.Server(mock=cls.mock, models=MODELS, env={"SLUICE_ADMIN_KEY": ADMIN_KEY},
                                    tables={"billing": {"rates": {"KZT": KZT, "EUR": 0.92}}}).start()
        cls.admin = Client(cls.server.url, headers=bearer(ADMIN_KEY))
        cls.keys = {}
        for tenant in ("acme", "globex"):
            r = cls.admin.post("/v1/admin/tenants", json={"id": tenant})
            assert r.status in (200, 201), r
            r = cls.admin.post("/v1/admin/keys", json={"tenant": tenant, "name": "costs"})
            assert r.status == 201, r
            cls.keys[tenant] = r.body["key"]
        cls.expected = {t: Expected() for t in cls.keys}
        cls.attempt_calls = []  # (alias, call record) of every job call
        cls.sync_records = []   # (alias, call record, answer usage)
        cls._run_work()

    @classmethod
    def tearDownClass(cls):
        cls.server.cleanup()
        cls.mock.cleanup()

    @classmethod
    def _run_work(cls):
        jobs = {
            "acme": [classify_job("I was charged twice for one order", model="fast"),
                     classify_job("My card was blocked abroad", model="strong"),
                     {"type": "chat", "request": {"model": "fast", "messages": [
                         {"role": "user", "content": "Say hello to the support team"}]}},
                     classify_job("Where is my refund", model="free")],
            "globex": [classify_job("The app crashes when I log in", model="strong"),
                       classify_job("Please close my account", model="fast")],
        }
        syncs = {"acme": ["fast", "strong"], "globex": ["fast", "free"]}
        ids = []
        for tenant, bodies in jobs.items():
            for body in bodies:
                r = request("POST", cls.server.url + "/v1/jobs", json=body, headers=bearer(cls.keys[tenant]))
                assert r.status == 202, r
                ids.append((tenant, r.body["id"], body["type"]))
        for tenant, aliases in syncs.items():
            for alias in aliases:
                r = request("POST", cls.server.url + "/v1/chat/completions", headers=bearer(cls.keys[tenant]),
                            json={"model": alias, "messages": [
                                {"role": "user", "content": "Is my payment through? Order 8841."}]})
                assert r.status == 200, r
                for call in r.body["sluice"]["attempts"]:
                    # The sync answer's call records carry the cost; the usage is the answer's.
                    record = dict(call)
                    record["usage"] = dict(r.body["usage"])
                    record["usage"]["cached_tokens"] = int(record["usage"]["prompt_tokens"] * CACHED_SHARE)
                    record["usage"]["reasoning_tokens"] = int(
                        record["usage"]["completion_tokens"] * REASONING_SHARE)
                    record["unpriced"] = call["cost_usd"] == 0
                    cls.expected[tenant].add("sync", record)
                    cls.sync_records.append((alias, record))
        for tenant, job_id, task_type in ids:
            headers = bearer(cls.keys[tenant])
            job = wait_job(cls.server, job_id, headers=headers)
            # A doubtful answer waits in review; its attempts are recorded all the same.
            assert job["status"] in ("done", "review"), job
            result = get_result(cls.server, job_id, headers=headers)
            for attempt in result["attempts"]:
                cls.expected[tenant].add(task_type, attempt, job_id)
                cls.attempt_calls.append((attempt["model_alias"], attempt))
        # The sync calls settle after their answers: wait until the report counts them all.
        want = sum(e.total["calls"] for e in cls.expected.values())
        wait_until(lambda: cls.report()[1].get("total", {}).get("calls") == want, timeout=15,
                   message="the report never counted %d calls" % want)
        if datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m") != cls.month:
            raise unittest.SkipTest("the month turned while the calls ran")

    @classmethod
    def report(cls, key=ADMIN_KEY, **query):
        query.setdefault("month", cls.month)
        qs = "&".join("%s=%s" % kv for kv in query.items())
        r = request("GET", cls.server.url + "/v1/reports/costs?" + qs, headers=bearer(key))
        return r.status, r.body

    def check_figures(self, got, want, rate, what):
        for field in Expected.FIELDS:
            self.assertEqual(got[field], want[field], "%s: %s" % (what, field))
        self.assertEqual(got["cost_usd"], want["cost_nano_usd"] / 1e9, what)
        self.assertEqual(got["cost"], (want["cost_nano_usd"] / 1e9) * rate, what)

    def check_tenant(self, got, tenant, rate):
        want = self.expected[tenant]
        self.assertEqual(got["tenant"], tenant)
        self.assertEqual(got["jobs"], len(want.jobs))
        self.check_figures(got, want.total, rate, tenant)
        models = {(m["model_alias"], m["provider"], m["model"]): m for m in got["by_model"]}
        self.assertEqual(set(models), set(want.by_model), tenant)
        for key, figures in want.by_model.items():
            self.check_figures(models[key], figures, rate, "%s %s" % (tenant, key))
        types = {t["task_type"]: t for t in got["by_task_type"]}
        self.assertEqual(set(types), set(want.by_type), tenant)
        for task_type, figures in want.by_type.items():
            self.check_figures(types[task_type], figures, rate, "%s %s" % (tenant, task_type))

    def test_prices_cached_and_reasoning_tokens_and_flags_unpriced_calls(self):
        calls = self.attempt_calls + self.sync_records
        self.assertTrue(any(alias == "fast" for alias, _ in calls))
        for alias, call in calls:
            usage = call["usage"]
            self.assertEqual(usage["cached_tokens"], int(usage["prompt_tokens"] * CACHED_SHARE), call)
            self.assertEqual(usage["reasoning_tokens"], int(usage["completion_tokens"] * REASONING_SHARE), call)
            self.assertGreater(usage["cached_tokens"], 0, call)
            self.assertEqual(nanos(call["cost_usd"]), expected_nanos(alias, usage), call)
            self.assertEqual(call.get("unpriced", False), alias == "free", call)
        # The special prices changed what "fast" cost: not the plain input/output price.
        alias, call = next((a, c) for a, c in self.attempt_calls if a == "fast")
        u = call["usage"]
        plain = round((u["prompt_tokens"] * 0.15 + u["completion_tokens"] * 0.60) * 1e3)
        self.assertNotEqual(nanos(call["cost_usd"]), plain)

    def test_the_admin_sees_every_tenant_with_sums_equal_to_the_calls(self):
        status, body = self.report(currency="KZT")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["month"], self.month)
        self.assertEqual(body["currency"], "KZT")
        self.assertEqual(body["usd_rate"], KZT)
        self.assertEqual([t["tenant"] for t in body["tenants"]], ["acme", "globex"])
        for t in body["tenants"]:
            self.check_tenant(t, t["tenant"], KZT)
            self.assertEqual(t["unpriced_calls"], 1)  # acme: a job on "free"; globex: a sync call
        self.assertEqual(body["total"]["cost_nano_usd"],
                         sum(e.total["cost_nano_usd"] for e in self.expected.values()))

    def test_a_tenant_key_sees_only_its_tenant(self):
        for tenant in ("acme", "globex"):
            status, body = self.report(key=self.keys[tenant], currency="EUR")
            self.assertEqual(status, 200, body)
            self.assertEqual([t["tenant"] for t in body["tenants"]], [tenant])
            self.check_tenant(body["tenants"][0], tenant, 0.92)

    def test_usd_is_the_default_currency(self):
        status, body = self.report()
        self.assertEqual(status, 200, body)
        self.assertEqual((body["currency"], body["usd_rate"]), ("USD", 1))
        for t in body["tenants"]:
            self.check_tenant(t, t["tenant"], 1.0)

    def test_an_unknown_currency_and_a_bad_month_are_400(self):
        status, body = self.report(currency="GBP")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["field"], "currency")
        status, body = self.report(month="2026-13")
        self.assertEqual(status, 400, body)
        self.assertEqual(body["error"]["field"], "month")
        status, body = self.report(month="2020-01")
        self.assertEqual((status, body["tenants"]), (200, []))

    def cli(self, *args, key=ADMIN_KEY):
        env = dict(os.environ, SLUICE_SERVER=self.server.url, SLUICE_API_KEY=key)
        p = subprocess.run([harness.SLUICE_BIN, "report", "costs", "--month", self.month] + list(args),
                           capture_output=True, text=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_cli_prints_a_table(self):
        out = self.cli("--currency", "KZT")
        lines = out.splitlines()
        self.assertIn(self.month, lines[0])
        self.assertIn("KZT", lines[0])
        self.assertIn("cost_KZT", lines[1])
        for tenant, want in self.expected.items():
            row = next(line for line in lines if line.split()[:1] == [tenant])
            self.assertIn(money(want.total["cost_nano_usd"]), row.split(), row)
            self.assertIn("%.6f" % (want.total["cost_nano_usd"] / 1e9 * KZT), row.split(), row)
        self.assertTrue(any("type sync" in line for line in lines), out)
        self.assertTrue(any("model fast/mock/gpt-4o-mini" in line for line in lines), out)
        total = next(line for line in lines if line.startswith("TOTAL"))
        self.assertIn(money(sum(e.total["cost_nano_usd"] for e in self.expected.values())), total.split())

    def test_cli_prints_csv_rows_equal_to_the_expectation(self):
        rows = list(csv.DictReader(io.StringIO(self.cli("--currency", "KZT", "-o", "csv"))))
        self.assertTrue(rows)
        for row in rows:
            self.assertEqual((row["month"], row["currency"], float(row["usd_rate"])), (self.month, "KZT", KZT))
        for tenant, want in self.expected.items():
            total = next(r for r in rows if r["tenant"] == tenant and r["kind"] == "total")
            self.assertEqual(int(total["jobs"]), len(want.jobs))
            for field in Expected.FIELDS:
                if field != "cost_nano_usd":
                    self.assertEqual(int(total[field]), want.total[field], field)
            self.assertEqual(total["cost_usd"], money(want.total["cost_nano_usd"]))
            self.assertEqual(total["cost"], "%.6f" % (want.total["cost_nano_usd"] / 1e9 * KZT))
            for task_type, figures in want.by_type.items():
                r = next(r for r in rows if r["tenant"] == tenant and r["kind"] == "task_type"
                         and r["name"] == task_type)
                self.assertEqual(r["cost_usd"], money(figures["cost_nano_usd"]))
                self.assertEqual(int(r["calls"]), figures["calls"])
            for (alias, provider, model), figures in want.by_model.items():
                r = next(r for r in rows if r["tenant"] == tenant and r["kind"] == "model"
                         and r["name"] == "%s/%s/%s" % (alias, provider, model))
                self.assertEqual(r["cost_usd"], money(figures["cost_nano_usd"]))
        # A tenant's own key: its own rows only.
        own = list(csv.DictReader(io.StringIO(self.cli("-o", "csv", key=self.keys["globex"]))))
        self.assertEqual({r["tenant"] for r in own}, {"globex", "*"})


if __name__ == "__main__":
    unittest.main()
