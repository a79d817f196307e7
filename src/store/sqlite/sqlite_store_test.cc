// The embedded engine: the Store contract suite, plus what only this engine promises (one
// process per data dir, versioned migrations, the file layout).
#include "store/store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "store/sqlite/migrations.h"
#include "store/sqlite/sqlite_session.h"
#include "store/store_contract_test.h"
#include "store/testing/schema_check.h"

namespace sluice {
namespace {

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  auto store = Store::Open(StoreOptions{.data_dir = dir, .durable = false});
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

std::int64_t CountSqlite(const std::string& dir, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  std::int64_t n = -1;
  if (sqlite3_open_v2((dir + "/sluice.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) ==
          SQLITE_OK &&
      sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         testing::Values(StoreEngine{"sqlite", OpenSqlite, CountSqlite}),
                         StoreEngineName);

class SqliteStoreTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "sluice-sqlite-XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs `sql` on a separate raw connection to the store's database.
  void RawExec(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ + "/sluice.db").c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK)
        << (error ? error : "");
    sqlite3_free(error);
    sqlite3_close(db);
  }
  std::int64_t RawCount(const std::string& sql) {
    sqlite3* db = nullptr;
    sqlite3_stmt* stmt = nullptr;
    std::int64_t n = -1;
    if (sqlite3_open((dir_ + "/sluice.db").c_str(), &db) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      n = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return n;
  }

  std::string dir_;
};

TEST_F(SqliteStoreTest, OnlyOneStoreAtATimePerDataDir) {
  auto first = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE((*first)->exclusive());

  auto second = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  // Store::Open is the same engine behind the factory.
  EXPECT_EQ(Store::Open(StoreOptions{.data_dir = dir_}).status().code(),
            StatusCode::kFailedPrecondition);

  first->reset();  // closing releases the lock
  auto third = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(SqliteStoreTest, CreatesAMissingDataDirWithTheDatabaseInside) {
  std::string nested = dir_ + "/a/b/data";
  auto store = Store::Open(StoreOptions{.data_dir = nested});  // durable, the default
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(nested + "/sluice.db"));
  EXPECT_TRUE(std::filesystem::exists(nested + "/LOCK"));
  EXPECT_TRUE((*store)->ping().ok());
}

TEST_F(SqliteStoreTest, RefusesAnEmptyDataDir) {
  EXPECT_EQ(Store::Open(StoreOptions{}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, AppliesEachMigrationOnce) {
  const auto newest = static_cast<std::int64_t>(sqlite::Migrations().back().version);
  for (int round = 0; round < 2; ++round) {
    auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(RawCount("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite::Migrations().size()));
  EXPECT_EQ(RawCount("SELECT max(version) FROM schema_migrations"), newest);
}

// Increasing; a number may be missing while a parallel change that owns it is not merged yet.
TEST_F(SqliteStoreTest, MigrationsAreNumberedInOrder) {
  int previous = 0;
  for (const sql::Migration& m : sqlite::Migrations()) {
    EXPECT_GT(m.version, previous);
    previous = m.version;
  }
}

// A migration that is listed but not recorded runs, even below the newest recorded one (a
// change merged after a later-numbered one already ran on this database).
TEST_F(SqliteStoreTest, AppliesAMigrationMissingBelowTheNewest) {
  ASSERT_GE(sqlite::Migrations().size(), 2u);
  { ASSERT_TRUE(Store::Open(StoreOptions{.data_dir = dir_, .durable = false}).ok()); }
  const int second = sqlite::Migrations()[1].version;
  // Undo migration 2 (allow_fallback) and forget it was applied.
  ASSERT_EQ(second, 2);
  RawExec("ALTER TABLE jobs DROP COLUMN allow_fallback");
  RawExec("DELETE FROM schema_migrations WHERE version = 2");
  { ASSERT_TRUE(Store::Open(StoreOptions{.data_dir = dir_, .durable = false}).ok()); }
  EXPECT_EQ(RawCount("SELECT count(*) FROM schema_migrations WHERE version = 2"), 1);
  EXPECT_EQ(RawCount("SELECT count(*) FROM pragma_table_info('jobs') WHERE name = "
                     "'allow_fallback'"),
            1);
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerBuild) {
  { ASSERT_TRUE(Store::Open(StoreOptions{.data_dir = dir_, .durable = false}).ok()); }
  RawExec("INSERT INTO schema_migrations (version) VALUES (9999)");
  auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

// A database last written at schema version 1 (before allow_fallback existed) is brought up to
// date on open, and its jobs read back with the column's default: fallback allowed.
TEST_F(SqliteStoreTest, MigratesAVersion1DatabaseKeepingItsJobs) {
  ASSERT_GE(sqlite::Migrations().size(), 2u);
  ASSERT_EQ(sqlite::Migrations()[0].version, 1);
  RawExec(std::string(sqlite::Migrations()[0].sql) +
          "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
          "NULL DEFAULT 0);"
          "INSERT INTO schema_migrations (version) VALUES (1);"
          "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, "
          "response_schema, model, params, queue, priority, run_at, max_attempts, dedup_key, "
          "webhook_url, metadata, status, attempt, created_at, cost_usd, lease_owner, "
          "lease_until, due_at) VALUES ('job_old', 'default', 'classify', '{}', '', '', 'v1', "
          "'s1', 'fast', '{}', 'default', 5, 0, 3, '', '', '{}', 0, 0, 0, 0, '', 0, 0);"
          "INSERT INTO queue_counts (queue, status, n) VALUES ('default', 0, 1);");

  auto opened = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  auto old = store.get_job(kDefaultTenant, "job_old");
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  EXPECT_EQ(old->spec.model, "fast");
  EXPECT_TRUE(old->spec.allow_fallback);
  auto claimed = store.claim_jobs(
      ClaimRequest{.queue = "default", .limit = 1, .owner = "node-a", .now = 1, .lease_until = 2});
  ASSERT_TRUE(claimed.ok()) << claimed.status().ToString();
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_TRUE(claimed->at(0).spec.allow_fallback);

  // New jobs written after the migration keep either value.
  Job pinned;
  pinned.id = "job_new";
  pinned.created_at = 3;
  pinned.spec.allow_fallback = false;
  auto submitted = store.submit_jobs(std::span(&pinned, 1));
  ASSERT_TRUE(submitted.ok()) << submitted.status().ToString();
  auto got = store.get_job(kDefaultTenant, "job_new");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->spec.allow_fallback);
  opened->reset();
  EXPECT_EQ(RawCount("SELECT max(version) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite::Migrations().back().version));
}

// Jobs stored before migration 7 name their blobs only in their input: the migration records
// those references, so that retention keeps the blobs they need.
TEST_F(SqliteStoreTest, MigrationSevenRecordsTheBlobsOfJobsStoredBeforeIt) {
  std::string script =
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
      "NULL DEFAULT 0);";
  for (const sql::Migration& m : sqlite::Migrations()) {
    if (m.version >= 7) break;
    script += std::string(m.sql) + "INSERT INTO schema_migrations (version) VALUES (" +
              std::to_string(m.version) + ");";
  }
  const std::string blob = "sha256:" + std::string(64, 'b');
  for (const auto& [id, input] :
       {std::pair<std::string, std::string>{"job_blob", R"({"blob":")" + blob + R"("})"},
        {"job_text", R"({"text":"{\"blob\":\"sha256:x\"}"})"}}) {
    script +=
        "INSERT INTO jobs (id, tenant, type, input, object_id, source, prompt_version, "
        "response_schema, model, params, queue, priority, run_at, max_attempts, dedup_key, "
        "webhook_url, metadata, status, attempt, created_at, cost_usd, lease_owner, "
        "lease_until, due_at) VALUES ('" +
        id + "', 'acme', 'classify', '" + input +
        "', '', '', 'v1', 's1', '', '{}', 'default', 5, 0, 3, '', '', '{}', 4, 1, 0, 0, "
        "'', 0, 0);";
  }
  RawExec(script);

  auto opened = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_TRUE(*(*opened)->blob_referenced("acme", blob));
  EXPECT_FALSE(*(*opened)->blob_referenced(kDefaultTenant, blob));
  opened->reset();
  EXPECT_EQ(RawCount("SELECT count(*) FROM job_blobs"), 1);
}

TEST_F(SqliteStoreTest, MigrationsMakeTheTablesOfTheColumnTables) {
  auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto conn = sqlite::Connection::Open(dir_ + "/sluice.db",
                                       sqlite::ConnectionOptions{.durable = false, .read_only = true});
  ASSERT_TRUE(conn.ok()) << conn.status().ToString();
  sqlite::ConnectionSession session(**conn);
  auto mismatches = sql::SchemaMismatches(session);
  ASSERT_TRUE(mismatches.ok()) << mismatches.status().ToString();
  EXPECT_THAT(*mismatches, testing::IsEmpty());
}

// A row a newer build wrote (a status this build does not know, as when nodes of two versions
// share a store during an upgrade) is an error for the call that reads it, never a crash.
TEST_F(SqliteStoreTest, AStoredValueOfANewerBuildIsAnErrorNotACrash) {
  auto opened = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  Job job;
  job.id = "job_new";
  job.created_at = kT0;
  job.spec.type = "classify";
  job.spec.run_at = kT0;
  ASSERT_TRUE(store.submit_jobs(std::vector<Job>{job}).ok());
  Batch batch;
  batch.id = "batch_new";
  batch.endpoint = "/v1/chat/completions";
  batch.input_file_id = "file_in";
  batch.completion_window = "24h";
  batch.created_at = kT0;
  batch.expires_at = kT0 + 86'400'000;
  ASSERT_TRUE(store.create_batch(batch).ok());
  RawExec("UPDATE jobs SET status = 99 WHERE id = 'job_new'");
  RawExec("UPDATE batches SET status = 'paused' WHERE id = 'batch_new'");

  auto got = store.get_job(kDefaultTenant, "job_new");
  EXPECT_EQ(got.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(got.status().message(), testing::HasSubstr("jobs.status holds '99'"));
  EXPECT_EQ(store.list_jobs(JobFilter{}).status().code(), StatusCode::kFailedPrecondition);
  auto batch_read = store.get_batch(kDefaultTenant, "batch_new");
  EXPECT_EQ(batch_read.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(batch_read.status().message(), testing::HasSubstr("batches.status holds 'paused'"));
  EXPECT_TRUE(store.ping().ok());  // the store itself goes on
}

TEST_F(SqliteStoreTest, ADedupWindowOfZeroKeepsKeysForEver) {
  auto opened = Store::Open(StoreOptions{.data_dir = dir_, .durable = false, .dedup_window = 0});
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Store& store = **opened;
  Job old;
  old.id = "job_old";
  old.created_at = 1'800'000'000'000;
  old.spec.type = "classify";
  old.spec.queue = "default";
  old.spec.dedup_key = "the-key";
  ASSERT_TRUE(store.submit_jobs(std::span(&old, 1)).ok());
  ASSERT_TRUE(store.cancel_job(kDefaultTenant, "job_old", old.created_at).ok());
  Job late = old;
  late.id = "job_late";
  late.created_at = old.created_at + 365LL * 24 * 3600 * 1000;
  auto outcome = store.submit_jobs(std::span(&late, 1));
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE((*outcome)[0].deduplicated);
  EXPECT_EQ((*outcome)[0].job.id, "job_old");
}

TEST_F(SqliteStoreTest, RunsInWalMode) {
  auto store = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(store.ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/sluice.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

// Writers serialize on one connection while readers use the pool; every thread sees its own
// writes, and the totals add up when all are done.
TEST_F(SqliteStoreTest, ConcurrentReadersAndWritersStayConsistent) {
  auto opened = Store::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(opened.ok());
  Store& store = **opened;
  constexpr Millis kNow = 1'800'000'000'000;
  constexpr int kWriters = 3;
  constexpr int kRounds = 60;
  std::atomic<int> errors{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::string owner = "node-" + std::to_string(w);
      std::string queue = "q" + std::to_string(w);
      for (int round = 0; round < kRounds; ++round) {
        std::vector<Job> jobs(5);
        for (int i = 0; i < 5; ++i) {
          jobs[i].id = "job_" + std::to_string(w) + "_" + std::to_string(round * 5 + i);
          jobs[i].created_at = kNow;
          jobs[i].spec.queue = queue;
        }
        if (!store.submit_jobs(jobs).ok()) ++errors;
        auto mine = store.get_job(kDefaultTenant, jobs[4].id);  // read your own write
        if (!mine.ok()) ++errors;
        auto claimed = store.claim_jobs(ClaimRequest{
            .queue = queue, .limit = 3, .owner = owner, .now = kNow, .lease_until = kNow + 1000});
        if (!claimed.ok()) {
          ++errors;
          continue;
        }
        std::vector<AttemptFinish> done;
        for (const Job& job : *claimed) {
          done.push_back(AttemptFinish{.job_id = job.id,
                                       .attempt = job.attempt,
                                       .lease_owner = owner,
                                       .now = kNow + 1,
                                       .result_json = "{}"});
        }
        auto finished = store.finish_attempts(done);
        if (!finished.ok()) ++errors;
        for (const Status& s : *finished) {
          if (!s.ok()) ++errors;
        }
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&] {
      while (writing.load()) {
        if (!store.queue_stats().ok() || !store.list_jobs(JobFilter{.limit = 20}).ok() ||
            !store.ping().ok()) {
          ++errors;
        }
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[w].join();
  writing = false;
  for (std::size_t t = kWriters; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(errors.load(), 0);

  auto stats = store.queue_stats();
  ASSERT_TRUE(stats.ok());
  ASSERT_EQ(stats->size(), static_cast<std::size_t>(kWriters));
  for (const QueueStats& q : *stats) {
    EXPECT_EQ(q.by_status[static_cast<int>(JobStatus::kDone)], 3 * kRounds) << q.queue;
    EXPECT_EQ(q.by_status[static_cast<int>(JobStatus::kQueued)], 2 * kRounds) << q.queue;
  }
}

}  // namespace
}  // namespace sluice
