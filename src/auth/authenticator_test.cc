#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

#include "auth/key_secret.h"

namespace sluice::auth {
namespace {

class AuthenticatorTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("sluice-auth-test-" + std::to_string(::getpid()) + "-" +
                                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto store = Store::Open(StoreOptions{.data_dir = dir_.string(), .durable = false});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ASSERT_TRUE(store_->put_tenant(TenantPatch{.id = "acme", .rpm = 600, .now = clock_.now()}).ok());
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // A new key of `tenant`; returns "Bearer <secret>" and sets `id`.
  std::string NewKey(const std::string& tenant, std::string* id = nullptr) {
    std::string secret = NewKeySecret();
    ApiKey key{.id = "key_" + std::to_string(++keys_), .tenant = tenant, .hash = KeyHash(secret),
               .created_at = clock_.now()};
    EXPECT_TRUE(store_->create_api_key(key).ok());
    if (id) *id = key.id;
    return "Bearer " + secret;
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  int keys_ = 0;
};

TEST_F(AuthenticatorTest, WithoutKeysEveryRequestIsTheDefaultTenant) {
  Authenticator auth(*store_, clock_, {});
  ASSERT_TRUE(auth.refresh_required().ok());
  EXPECT_FALSE(auth.required());
  Result<Caller> caller = auth.lookup("");
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ(caller->tenant, kDefaultTenant);
  EXPECT_FALSE(caller->admin);
}

TEST_F(AuthenticatorTest, TheFirstKeyAnywhereTurnsAuthenticationOn) {
  Authenticator auth(*store_, clock_, {});
  ASSERT_TRUE(auth.refresh_required().ok());
  ASSERT_FALSE(auth.required());
  const std::string header = NewKey("acme");  // as another node would
  ASSERT_TRUE(auth.refresh_required().ok());
  EXPECT_TRUE(auth.required());
  EXPECT_EQ(auth.lookup("").status().code(), StatusCode::kUnauthenticated);
  Result<Caller> caller = auth.lookup(header);
  ASSERT_TRUE(caller.ok()) << caller.status().ToString();
  EXPECT_EQ(caller->tenant, "acme");
  EXPECT_EQ(caller->limits.rpm, 600);
}

TEST_F(AuthenticatorTest, TheAdminKeyIsAnsweredFromMemory) {
  Authenticator auth(*store_, clock_, {.admin_key = "admin-key-of-some-length"});
  EXPECT_TRUE(auth.required());
  auto known = auth.cached("Bearer admin-key-of-some-length");
  ASSERT_TRUE(known.has_value());
  ASSERT_TRUE(known->ok());
  EXPECT_TRUE((*known)->admin);
  EXPECT_FALSE(auth.cached("Bearer admin-key-of-some-lengtH").has_value());  // asks the store
  EXPECT_EQ(auth.lookup("Bearer admin-key-of-some-lengtH").status().code(), StatusCode::kUnauthenticated);
}

TEST_F(AuthenticatorTest, ARevokedKeyStopsWorkingOnceTheCachedAnswerIsOld) {
  Authenticator auth(*store_, clock_, {.cache_ttl = 2'000});
  std::string id;
  const std::string header = NewKey("acme", &id);
  ASSERT_TRUE(auth.refresh_required().ok());
  ASSERT_TRUE(auth.lookup(header).ok());
  ASSERT_TRUE(store_->revoke_api_key(id, clock_.now()).ok());  // on another node
  clock_.advance(1'999);
  auto still = auth.cached(header);
  ASSERT_TRUE(still.has_value());
  EXPECT_TRUE(still->ok());
  clock_.advance(1);
  EXPECT_FALSE(auth.cached(header).has_value());
  Result<Caller> after = auth.lookup(header);
  EXPECT_EQ(after.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(after.status().message().find("revoked"), std::string::npos);
  // The answer "revoked" is cached too: no store read per request of a dead key.
  auto cached = auth.cached(header);
  ASSERT_TRUE(cached.has_value());
  EXPECT_FALSE(cached->ok());
}

TEST_F(AuthenticatorTest, TheCacheIsBoundedUnderAFloodOfUnknownKeys) {
  Authenticator auth(*store_, clock_, {.max_cached = 100});
  NewKey("acme");
  ASSERT_TRUE(auth.refresh_required().ok());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(auth.lookup("Bearer sk-sluice-guess-" + std::to_string(i)).status().code(),
              StatusCode::kUnauthenticated);
  }
  // Still answers, and the newest entries are there (bounded by clearing, not growing).
  EXPECT_TRUE(auth.cached("Bearer sk-sluice-guess-999").has_value());
  EXPECT_FALSE(auth.cached("Bearer sk-sluice-guess-0").has_value());
}

}  // namespace
}  // namespace sluice::auth
