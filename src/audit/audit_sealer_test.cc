// The sealer's loop (audit/audit_sealer.h) over a store whose seal_audit is scripted: it seals
// in batches until one comes back short, keeps going after an error, and seals what is left
// when it stops. (The sealing itself is the Store contract's, store_audit_contract_test.cc;
// two PostgreSQL nodes sealing at once: tests/integration/test_audit.py.)
#include "audit/audit_sealer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "core/mutex.h"
#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

// Holds `pending` entries; each seal_audit takes up to `limit` of them (0 while another
// node "holds the lock"), or fails while `failing`.
class ScriptedStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<int> seal_audit(int limit) override {
    ++calls;
    if (failing) return Unavailable("the store is down");
    const int n = std::min<std::int64_t>(limit, pending.load());
    pending -= n;
    return n;
  }
  std::atomic<std::int64_t> pending{0};
  std::atomic<int> calls{0};
  std::atomic<bool> failing{false};
};

class AuditSealerTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "audit_sealer_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    inner_ = std::move(Store::Open({.data_dir = dir_, .durable = false})).value();
    store_ = std::make_unique<ScriptedStore>(*inner_);
  }
  void TearDown() override {
    store_.reset();
    inner_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Store> inner_;
  std::unique_ptr<ScriptedStore> store_;
};

TEST_F(AuditSealerTest, APassSealsInBatchesUntilOneComesBackShort) {
  store_->pending = 25;
  AuditSealer sealer(*store_, {.batch = 10});
  Result<std::int64_t> sealed = sealer.pass();
  ASSERT_TRUE(sealed.ok());
  EXPECT_EQ(*sealed, 25);
  EXPECT_EQ(store_->calls, 3);  // 10, 10, 5
  EXPECT_EQ(*sealer.pass(), 0);
}

TEST_F(AuditSealerTest, AFailedPassIsRetriedByTheNext) {
  store_->pending = 4;
  store_->failing = true;
  AuditSealer sealer(*store_, {.batch = 10});
  EXPECT_FALSE(sealer.pass().ok());
  store_->failing = false;
  EXPECT_EQ(*sealer.pass(), 4);
}

TEST_F(AuditSealerTest, ItsThreadSealsWhatArrivesWhileItRuns) {
  AuditSealer sealer(*store_, {.every = 10});
  sealer.start();
  store_->pending = 5;
  for (int i = 0; i < 500 && store_->pending > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(store_->pending, 0);
  sealer.stop();
}

TEST_F(AuditSealerTest, StopSealsWhatIsLeft) {
  AuditSealer sealer(*store_, {.every = 60'000, .batch = 3});
  sealer.start();
  for (int i = 0; i < 500 && store_->calls == 0; ++i) {  // its first pass, at start, ran
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  store_->pending = 8;
  sealer.stop();
  EXPECT_EQ(store_->pending, 0);
}

}  // namespace
}  // namespace sluice
