// TenantMaskCache (api/mask_pii_request.h) over a real SQLite store: one read per tenant per
// ttl, a changed flag seen once the ttl passed, and a store that fails masking (fail closed).
#include "api/mask_pii_request.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "store/testing/forwarding_store.h"

namespace sluice {
namespace {

class CountingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  Result<Tenant> get_tenant(const std::string& id) override {
    ++reads;
    if (down) return Unavailable("the store is down");
    return ForwardingStore::get_tenant(id);
  }
  std::atomic<int> reads{0};
  std::atomic<bool> down{false};
};

class TenantMaskCacheTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir() + "mask_cache_" +
           testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(dir_);
    inner_ = std::move(Store::Open({.data_dir = dir_, .durable = false})).value();
    store_ = std::make_unique<CountingStore>(*inner_);
  }
  void TearDown() override {
    store_.reset();
    inner_.reset();
    std::filesystem::remove_all(dir_);
  }
  void SetMask(const std::string& tenant, bool masks) {
    ASSERT_TRUE(inner_->put_tenant({.id = tenant, .mask_pii = masks, .now = 1}).ok());
  }

  std::string dir_;
  std::unique_ptr<Store> inner_;
  std::unique_ptr<CountingStore> store_;
  FakeClock clock_{1'000'000};
};

TEST_F(TenantMaskCacheTest, ReadsEachTenantOncePerTtl) {
  SetMask("bank", true);
  TenantMaskCache cache(*store_, clock_, 2'000);
  for (int line = 0; line < 100; ++line) EXPECT_TRUE(cache.masks("bank"));
  EXPECT_FALSE(cache.masks("shop"));  // no such tenant: nothing to mask for
  EXPECT_EQ(store_->reads, 2);

  SetMask("bank", false);
  clock_.advance(1'999);
  EXPECT_TRUE(cache.masks("bank"));  // within the ttl: the answer it had
  clock_.advance(1);
  EXPECT_FALSE(cache.masks("bank"));
  EXPECT_EQ(store_->reads, 3);
}

TEST_F(TenantMaskCacheTest, AStoreThatCannotAnswerMasks) {
  store_->down = true;
  TenantMaskCache cache(*store_, clock_);
  EXPECT_TRUE(cache.masks("bank"));
}

}  // namespace
}  // namespace sluice
