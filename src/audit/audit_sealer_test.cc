#include "audit/audit_sealer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "store/audit_chain.h"

namespace sluice {
namespace {

class AuditSealerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "audit_sealer_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    store_ = std::move(Store::Open({.data_dir = dir_, .durable = false})).value();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void AddTenants(int n, int from = 0) {
    for (int i = from; i < from + n; ++i) {
      ASSERT_TRUE(store_->put_tenant(TenantPatch{.id = "t" + std::to_string(i), .now = 1}).ok());
    }
  }
  std::int64_t Sealed() {
    auto records = store_->audit_records({.limit = 1000});
    return records.ok() ? static_cast<std::int64_t>(records->size()) : -1;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(AuditSealerTest, APassSealsEverythingPendingInBatches) {
  AddTenants(25);
  AuditSealer sealer(*store_, {.batch = 10});
  Result<std::int64_t> sealed = sealer.pass();
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*sealed, 25);
  EXPECT_EQ(*store_->audit_pending(), 0);
  EXPECT_EQ(Sealed(), 25);
  EXPECT_EQ(*sealer.pass(), 0);
}

TEST_F(AuditSealerTest, ItsThreadSealsWhatCommitsWhileItRuns) {
  AuditSealer sealer(*store_, {.every = 10});
  sealer.start();
  AddTenants(5);
  for (int i = 0; i < 500 && Sealed() < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Sealed(), 5);
  sealer.stop();
}

TEST_F(AuditSealerTest, StopSealsWhatIsLeft) {
  AuditSealer sealer(*store_, {.every = 60'000, .batch = 3});
  sealer.start();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // its first pass has run
  AddTenants(8);
  sealer.stop();
  EXPECT_EQ(*store_->audit_pending(), 0);
  EXPECT_EQ(Sealed(), 8);
}

TEST_F(AuditSealerTest, AStoreOpenedWithoutAuditRecordsNothing) {
  store_.reset();
  store_ = std::move(Store::Open({.data_dir = dir_, .durable = false, .audit = false})).value();
  AddTenants(3);
  EXPECT_EQ(*store_->audit_pending(), 0);
  AuditSealer sealer(*store_, {});
  EXPECT_EQ(*sealer.pass(), 0);
}

}  // namespace
}  // namespace sluice
