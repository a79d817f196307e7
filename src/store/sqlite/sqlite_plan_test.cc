// The hot queries must stay index seeks as the queue grows to a million jobs: each one's plan
// uses its index, never a full scan of jobs, never a temporary b-tree to sort. Checked on an
// empty database and again after ANALYZE over a populated one (statistics can change plans).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "store/sql/statements.h"
#include "store/sqlite/sqlite_statements.h"
#include "store/store.h"

namespace sluice {
namespace {

using testing::AllOf;
using testing::Contains;
using testing::HasSubstr;
using testing::Not;

constexpr Millis kT0 = 1'800'000'000'000;

class SqlitePlanTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-plan-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_EQ(sqlite3_open((dir_ + "/sluice.db").c_str(), &db_), SQLITE_OK);
  }
  void TearDown() override {
    sqlite3_close(db_);
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The detail lines of EXPLAIN QUERY PLAN for `sql`.
  std::vector<std::string> Plan(const sql::Statement& statement) {
    const char* sql = statement.text(sql::Syntax::kSqlite);
    std::vector<std::string> lines;
    std::string explain = std::string("EXPLAIN QUERY PLAN ") + sql;
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db_, explain.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
      ADD_FAILURE() << sqlite3_errmsg(db_) << " in " << sql;
      return lines;
    }
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      lines.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 3)));
    }
    sqlite3_finalize(stmt);
    return lines;
  }

  // A few thousand jobs in every state across queues and tenants, then ANALYZE.
  void PopulateAndAnalyze() {
    std::vector<Job> jobs;
    for (int i = 0; i < 3000; ++i) {
      Job job;
      job.id = "job_" + std::to_string(100000 + i);
      job.created_at = kT0 + i;
      job.spec.tenant = i % 4 == 0 ? "acme" : "default";
      job.spec.type = "classify";
      job.spec.queue = i % 3 == 0 ? "batch" : "default";
      job.spec.priority = i % 10;
      job.spec.run_at = kT0 + (i % 7) * 1000;
      if (i % 5 == 0) job.spec.deadline = kT0 + 100'000;
      if (i % 2 == 0) job.spec.dedup_key = "k" + std::to_string(i);
      if (i % 9 == 0) job.spec.object_id = "obj-" + std::to_string(i);
      jobs.push_back(job);
    }
    ASSERT_TRUE(store_->submit_jobs(jobs).ok());
    auto claimed = store_->claim_jobs(ClaimRequest{.queue = "default",
                                                   .limit = 800,
                                                   .owner = "w",
                                                   .now = kT0 + 10'000,
                                                   .lease_until = kT0 + 20'000});
    ASSERT_TRUE(claimed.ok());
    std::vector<AttemptFinish> done;
    for (std::size_t i = 0; i < 600 && i < claimed->size(); ++i) {
      const Job& job = (*claimed)[i];
      done.push_back(AttemptFinish{.job_id = job.id,
                                   .attempt = job.attempt,
                                   .lease_owner = "w",
                                   .now = kT0 + 11'000,
                                   .result_json = "{}"});
    }
    ASSERT_TRUE(store_->finish_attempts(done).ok());
    ASSERT_EQ(sqlite3_exec(db_, "ANALYZE", nullptr, nullptr, nullptr), SQLITE_OK);
  }

  void ExpectIndexedPlans() {
    auto uses = [](const char* index) {
      return AllOf(Contains(HasSubstr(index)), Not(Contains(HasSubstr("TEMP B-TREE"))),
                   Not(Contains(HasSubstr("SCAN jobs"))));
    };
    // Claim: a seek on (queue, priority) bounded by due_at, in ORDER BY order, covered by the
    // index (deadline included), so it reads no table row for a candidate.
    const sqlite::EngineStatements& own = sqlite::EngineSql();
    const sql::Statements& shared = sql::Sql();
    std::vector<std::string> claim = Plan(own.claim_candidates);
    EXPECT_THAT(claim, uses("jobs_claim")) << testing::PrintToString(claim);
    EXPECT_THAT(
        claim,
        Contains(HasSubstr("COVERING INDEX jobs_claim (queue=? AND priority=? AND due_at<?)")))
        << testing::PrintToString(claim);
    EXPECT_THAT(Plan(own.next_queued_priority), uses("jobs_claim"));
    // A tenant's claim (fair share): the same seeks, on (queue, tenant, priority).
    std::vector<std::string> tenant_claim = Plan(own.claim_candidates_of_tenant);
    EXPECT_THAT(tenant_claim, uses("jobs_claim_tenant")) << testing::PrintToString(tenant_claim);
    EXPECT_THAT(tenant_claim,
                Contains(HasSubstr("COVERING INDEX jobs_claim_tenant (queue=? AND tenant=? AND "
                                   "priority=? AND due_at<?)")))
        << testing::PrintToString(tenant_claim);
    EXPECT_THAT(Plan(own.next_queued_priority_of_tenant), uses("jobs_claim_tenant"));
    // due_tenants: every step of its walk is a seek into jobs_claim_tenant; the only scans are
    // of the walk's own rows (one at a time), never of jobs.
    std::vector<std::string> due = Plan(shared.due_tenants);
    EXPECT_THAT(due, uses("jobs_claim_tenant")) << testing::PrintToString(due);
    for (const std::string& line : due) {
      if (line.rfind("SEARCH", 0) == 0) {
        EXPECT_THAT(line, HasSubstr("USING COVERING INDEX jobs_claim_tenant (queue=?")) << line;
      } else if (line.rfind("SCAN", 0) == 0) {
        EXPECT_THAT(line, testing::AnyOf("SCAN s", "SCAN w", "SCAN walk")) << line;
      }
    }
    EXPECT_THAT(due, Contains(HasSubstr("jobs_claim_tenant (queue=? AND tenant=? AND priority=? "
                                        "AND due_at<?)")))
        << testing::PrintToString(due);
    EXPECT_THAT(Plan(own.find_by_dedup_key), uses("jobs_dedup"));
    EXPECT_THAT(Plan(shared.expire_overdue), uses("jobs_deadline"));
    EXPECT_THAT(Plan(shared.reap_expired), uses("jobs_lease"));
    EXPECT_THAT(Plan(shared.renew_leases), uses("jobs_lease_owner"));
    EXPECT_THAT(Plan(shared.release_leases), uses("jobs_lease_owner"));
    EXPECT_THAT(Plan(shared.oldest_queued), uses("jobs_queued_age"));
    EXPECT_THAT(Plan(shared.job_events), uses("events_job"));
    EXPECT_THAT(Plan(shared.events_after), uses("events_tenant"));
    EXPECT_THAT(Plan(shared.list_jobs[0]), uses("jobs_tenant"));
    EXPECT_THAT(Plan(shared.list_jobs[sql::kAfterCursor]), uses("jobs_tenant"));
    EXPECT_THAT(Plan(shared.list_jobs[sql::kByStatus | sql::kAfterCursor]),
                uses("jobs_tenant_status"));
    EXPECT_THAT(Plan(shared.list_jobs[sql::kByObjectId]), uses("jobs_tenant_object"));
    EXPECT_THAT(Plan(own.free_stale_dedup_key), uses("jobs_dedup"));
    // Tenants, keys and budgets.
    std::vector<std::string> live = Plan(shared.live_jobs);
    EXPECT_THAT(live, uses("jobs_tenant_status"));
    EXPECT_THAT(live,
                Contains(HasSubstr("COVERING INDEX jobs_tenant_status (tenant=? AND status=?)")))
        << testing::PrintToString(live);
    EXPECT_THAT(Plan(shared.unblock_jobs), uses("jobs_tenant_status"));
    EXPECT_THAT(Plan(shared.find_api_key), Contains(HasSubstr("api_keys_hash")));
    EXPECT_THAT(Plan(shared.list_api_keys), AllOf(Contains(HasSubstr("api_keys_tenant")),
                                                  Not(Contains(HasSubstr("TEMP B-TREE")))));
    EXPECT_THAT(Plan(shared.live_reserved), Contains(HasSubstr("budget_reservations_tenant")));
    EXPECT_THAT(Plan(shared.sweep_reservations), Contains(HasSubstr("budget_reservations_tenant")));

    // Retention: the oldest terminal jobs along jobs_finished (each one's pending delivery
    // looked up by job), a blob's references by (tenant, blob), every delete one seek per id.
    EXPECT_THAT(Plan(shared.pick_finished_jobs),
                AllOf(uses("jobs_finished"), Contains(HasSubstr("webhook_deliveries_job"))));
    EXPECT_THAT(Plan(shared.blob_referenced), Contains(HasSubstr("job_blobs_blob")));
    EXPECT_THAT(Plan(shared.delete_jobs), Not(Contains(HasSubstr("SCAN jobs"))));
    EXPECT_THAT(Plan(shared.delete_subject_events), Contains(HasSubstr("events_job")));
    EXPECT_THAT(Plan(shared.delete_subject_webhooks),
                Contains(HasSubstr("webhook_deliveries_job")));
    EXPECT_THAT(Plan(shared.delete_job_blobs), Not(Contains(HasSubstr("SCAN job_blobs"))));

    // The audit log: a tenant's or a job's records along their index, in seq order; the seal
    // deletes the ids it sealed by key.
    auto audit_uses = [](const std::string& index) {
      return AllOf(Contains(HasSubstr(index)), Not(Contains(HasSubstr("TEMP B-TREE"))));
    };
    EXPECT_THAT(Plan(shared.audit_records[sql::kAuditByTenant]), audit_uses("audit_log_tenant"));
    EXPECT_THAT(Plan(shared.audit_records[sql::kAuditByJob]), audit_uses("audit_log_job"));
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  sqlite3* db_ = nullptr;
};

TEST_F(SqlitePlanTest, HotQueriesUseTheirIndexOnAnEmptyDatabase) {
  ExpectIndexedPlans();
}

TEST_F(SqlitePlanTest, HotQueriesUseTheirIndexAfterAnalyze) {
  PopulateAndAnalyze();
  ExpectIndexedPlans();
}

// A month's costs report reads one range of model_calls_month, never the whole ledger (which
// retention never shrinks). Its GROUP BY may sort: a report is no hot path.
TEST_F(SqlitePlanTest, CostReportReadsOneMonthOfTheLedger) {
  for (const sql::Statement* stmt : {&sql::Sql().cost_lines, &sql::Sql().cost_jobs}) {
    std::vector<std::string> plan = Plan(*stmt);
    EXPECT_THAT(plan, Contains(HasSubstr("USING INDEX model_calls_month (month=?)")))
        << testing::PrintToString(plan);
    EXPECT_THAT(plan, Not(Contains(HasSubstr("SCAN model_calls"))))
        << testing::PrintToString(plan);
  }
}

}  // namespace
}  // namespace sluice
