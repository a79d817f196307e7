#include "auth/key_secret.h"

#include <gtest/gtest.h>

#include <set>

namespace sluice::auth {
namespace {

TEST(KeySecretTest, SecretsCarry256RandomBitsInBase64UrlAndNeverRepeat) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string s = NewKeySecret();
    ASSERT_EQ(s.substr(0, kKeyPrefix.size()), kKeyPrefix);
    ASSERT_EQ(s.size(), kKeyPrefix.size() + 43);
    for (char c : s.substr(kKeyPrefix.size())) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') << s;
    }
    ASSERT_TRUE(seen.insert(s).second);
  }
}

TEST(KeySecretTest, TheStoredHashIsTheSecretsSha256) {
  EXPECT_EQ(KeyHash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_NE(KeyHash(NewKeySecret()), KeyHash(NewKeySecret()));
}

TEST(KeySecretTest, SameSecretComparesWholeValues) {
  EXPECT_TRUE(SameSecret("sk-sluice-a", "sk-sluice-a"));
  EXPECT_FALSE(SameSecret("sk-sluice-a", "sk-sluice-b"));
  EXPECT_FALSE(SameSecret("sk-sluice-a", "sk-sluice-ab"));
  EXPECT_FALSE(SameSecret("", "x"));
}

TEST(KeySecretTest, BearerTokenReadsOnlyTheBearerScheme) {
  EXPECT_EQ(BearerToken("Bearer sk-sluice-x"), "sk-sluice-x");
  EXPECT_EQ(BearerToken("bearer   sk-sluice-x  "), "sk-sluice-x");
  EXPECT_EQ(BearerToken("Basic dXNlcjpwYXNz"), "");
  EXPECT_EQ(BearerToken("Bearer "), "");
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Bearersk-sluice-x"), "");
}

}  // namespace
}  // namespace sluice::auth
