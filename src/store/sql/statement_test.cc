#include "store/sql/statement.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "store/sql/columns.h"
#include "store/sql/statements.h"

namespace sluice::sql {
namespace {

TEST(SqliteSpellingTest, NumbersParametersAndDropsCasts) {
  EXPECT_EQ(SqliteSpelling("SELECT x FROM t WHERE a = $1::text AND b IN ($2::bigint, $12)"),
            "SELECT x FROM t WHERE a = ?1 AND b IN (?2, ?12)");
  EXPECT_EQ(SqliteSpelling("SELECT count(*)::bigint, $3::text[]"), "SELECT count(*), ?3");
}

TEST(SqliteSpellingTest, SpellsGreatestAndLeastAsMaxAndMin) {
  EXPECT_EQ(SqliteSpelling("SET m = greatest(m, a + 1), n = least($1::bigint, n)"),
            "SET m = max(m, a + 1), n = min(?1, n)");
  // Only the function: a column whose name ends in "greatest" stays.
  EXPECT_EQ(SqliteSpelling("SELECT not_greatest(1)"), "SELECT not_greatest(1)");
}

TEST(SqliteSpellingTest, LeavesQuotedTextAlone) {
  EXPECT_EQ(SqliteSpelling("SELECT 'a::b $1' || $1::text"), "SELECT 'a::b $1' || ?1");
}

TEST(SqliteSpellingDeathTest, RefusesRowLocks) {
  EXPECT_DEATH(SqliteSpelling("SELECT 1 FROM t FOR UPDATE"), "CHECK failed");
  EXPECT_DEATH(SqliteSpelling("SELECT 1 FROM t FOR UPDATE SKIP LOCKED"), "CHECK failed");
}

TEST(SpliceTest, StatusNumbersComeFromJobStatus) {
  EXPECT_EQ(Splice("status IN ({queued}, {running}, {done}, {failed}, {review}, {expired}, "
                   "{canceled})"),
            "status IN (0, 1, 2, 3, 4, 5, 6)");
}

TEST(SpliceTest, ColumnListsComeFromTheColumnTables) {
  EXPECT_EQ(Splice("SELECT {events}"), "SELECT seq, job_id, at, type, data");
  EXPECT_EQ(Splice("SELECT {jobs}"), "SELECT " + JobColumns().list());
  EXPECT_EQ(JobColumns().size(), 33);
  EXPECT_EQ(BatchColumns().size(), 29);
  EXPECT_EQ(Splice("SELECT {tenants}"),
            "SELECT id, weight, rpm, max_queued, monthly_budget_usd, mask_pii, created_at, updated_at");
  EXPECT_EQ(Splice("SELECT {api_keys}"), "SELECT id, tenant, name, hash, created_at, revoked_at");
  EXPECT_EQ(Splice("SELECT {reservations}"), "SELECT id, tenant, month, amount_usd, expires_at");
}

TEST(SpliceTest, QuotedBracesAreText) {
  EXPECT_EQ(Splice("SELECT '{queued}', {queued}"), "SELECT '{queued}', 0");
}

TEST(SpliceDeathTest, AnUnknownNameIsABug) {
  EXPECT_DEATH(Splice("SELECT {nope}"), "unknown \\{nope\\}");
}

TEST(StatementsTest, EveryStatementHasATextForEachDialect) {
  const Statements& s = Sql();
  for (const Statement* stmt : {&s.get_job, &s.cancel_job, &s.claim_webhooks, &s.lease_batch,
                                &s.cancel_batch_jobs, &s.lock_job_status, &s.list_jobs[31],
                                &s.lock_tenant, &s.sweep_reservations, &s.lock_usage, &s.due_tenants}) {
    const std::string sqlite = stmt->text(Syntax::kSqlite);
    const std::string postgres = stmt->text(Syntax::kPostgres);
    EXPECT_FALSE(sqlite.empty());
    EXPECT_FALSE(postgres.empty());
    EXPECT_THAT(sqlite, testing::Not(testing::HasSubstr("$")));
    EXPECT_THAT(sqlite, testing::Not(testing::HasSubstr("::")));
  }
  EXPECT_THAT(std::string(s.lock_job_status.text(Syntax::kPostgres)),
              testing::EndsWith(" FOR UPDATE"));
  EXPECT_THAT(std::string(s.lock_job_status.text(Syntax::kSqlite)),
              testing::Not(testing::HasSubstr("FOR")));
}

}  // namespace
}  // namespace sluice::sql
