// The embedded engine: the Store contract suite, plus what only this engine promises (one
// process per data dir, versioned migrations, the file layout).
#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "store/sqlite/migrations.h"
#include "store/store_contract_test.h"

namespace sluice {
namespace {

std::unique_ptr<Store> OpenSqlite(const std::string& dir) {
  auto store = SqliteStore::Open(StoreOptions{.data_dir = dir, .durable = false});
  if (!store.ok()) {
    ADD_FAILURE() << store.status().ToString();
    return nullptr;
  }
  return std::move(store).value();
}

INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
                         testing::Values(StoreEngine{"sqlite", OpenSqlite}), StoreEngineName);

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
  auto first = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE((*first)->exclusive());

  auto second = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(second.status().message().find("in use"), std::string::npos)
      << second.status().message();
  // Store::Open is the same engine behind the factory.
  EXPECT_EQ(Store::Open(StoreOptions{.data_dir = dir_}).status().code(),
            StatusCode::kFailedPrecondition);

  first->reset();  // closing releases the lock
  auto third = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
  EXPECT_TRUE(third.ok()) << third.status().ToString();
}

TEST_F(SqliteStoreTest, CreatesAMissingDataDirWithTheDatabaseInside) {
  std::string nested = dir_ + "/a/b/data";
  auto store = SqliteStore::Open(StoreOptions{.data_dir = nested});  // durable, the default
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE(std::filesystem::exists(nested + "/sluice.db"));
  EXPECT_TRUE(std::filesystem::exists(nested + "/LOCK"));
  EXPECT_TRUE((*store)->ping().ok());
}

TEST_F(SqliteStoreTest, RefusesAnEmptyDataDir) {
  EXPECT_EQ(SqliteStore::Open(StoreOptions{}).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SqliteStoreTest, AppliesEachMigrationOnce) {
  const auto newest = static_cast<std::int64_t>(sqlite::Migrations().back().version);
  for (int round = 0; round < 2; ++round) {
    auto store = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  EXPECT_EQ(RawCount("SELECT count(*) FROM schema_migrations"),
            static_cast<std::int64_t>(sqlite::Migrations().size()));
  EXPECT_EQ(RawCount("SELECT max(version) FROM schema_migrations"), newest);
}

TEST_F(SqliteStoreTest, MigrationsAreNumberedInOrder) {
  int previous = 0;
  for (const sqlite::Migration& m : sqlite::Migrations()) {
    EXPECT_EQ(m.version, previous + 1);
    previous = m.version;
  }
}

TEST_F(SqliteStoreTest, RefusesADatabaseFromANewerBuild) {
  { ASSERT_TRUE(SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false}).ok()); }
  RawExec("INSERT INTO schema_migrations (version) VALUES (9999)");
  auto store = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, RunsInWalMode) {
  auto store = SqliteStore::Open(StoreOptions{.data_dir = dir_, .durable = false});
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

}  // namespace
}  // namespace sluice
