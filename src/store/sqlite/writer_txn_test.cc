#include "store/sqlite/writer_txn.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

namespace sluice::sqlite {
namespace {

// SQLite's values of PRAGMA synchronous.
constexpr std::int64_t kOff = 0;
constexpr std::int64_t kNormal = 1;
constexpr std::int64_t kFull = 2;

class WriterTxnSyncTest : public testing::Test {
 protected:
  std::unique_ptr<Connection> Open(bool durable) {
    auto conn = Connection::Open(dir_ + "/db", ConnectionOptions{.durable = durable});
    EXPECT_TRUE(conn.ok()) << conn.status().ToString();
    return conn.ok() ? std::move(conn).value() : nullptr;
  }

  static std::int64_t Synchronous(Connection& conn) {
    static constexpr char kQuery[] = "PRAGMA synchronous";
    auto q = conn.prepare(kQuery);
    EXPECT_TRUE(q.ok());
    auto row = q->step();
    EXPECT_TRUE(row.ok() && *row);
    return q->int_at(0);
  }

  void SetUp() override {
    dir_ = testing::TempDir() + "/writer_txn_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string dir_;
};

TEST_F(WriterTxnSyncTest, AnUnsyncedCommitLeavesTheConnectionSyncingEveryCommitAgain) {
  auto conn = Open(/*durable=*/true);
  ASSERT_EQ(Synchronous(*conn), kFull);
  {
    WriterTxn txn(*conn, sql::CommitSync::kUnsynced);
    ASSERT_TRUE(txn.begin().ok());
    EXPECT_EQ(Synchronous(*conn), kNormal);
    ASSERT_TRUE(txn.commit().ok());
    EXPECT_EQ(Synchronous(*conn), kFull);
  }
  EXPECT_EQ(Synchronous(*conn), kFull);
}

TEST_F(WriterTxnSyncTest, AnUnsyncedTransactionRolledBackRestoresSyncing) {
  auto conn = Open(/*durable=*/true);
  {
    WriterTxn txn(*conn, sql::CommitSync::kUnsynced);
    ASSERT_TRUE(txn.begin().ok());
    EXPECT_EQ(Synchronous(*conn), kNormal);
  }  // no commit: rolled back
  EXPECT_EQ(Synchronous(*conn), kFull);
}

TEST_F(WriterTxnSyncTest, ASyncedTransactionSyncsItsCommit) {
  auto conn = Open(/*durable=*/true);
  WriterTxn txn(*conn);
  ASSERT_TRUE(txn.begin().ok());
  EXPECT_EQ(Synchronous(*conn), kFull);
  ASSERT_TRUE(txn.commit().ok());
  EXPECT_EQ(Synchronous(*conn), kFull);
}

TEST_F(WriterTxnSyncTest, AConnectionOpenedWithoutDurabilityNeverStartsSyncing) {
  auto conn = Open(/*durable=*/false);
  {
    WriterTxn txn(*conn, sql::CommitSync::kUnsynced);
    ASSERT_TRUE(txn.begin().ok());
    ASSERT_TRUE(txn.commit().ok());
  }
  EXPECT_EQ(Synchronous(*conn), kOff);
}

}  // namespace
}  // namespace sluice::sqlite
