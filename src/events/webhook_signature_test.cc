#include "events/webhook_signature.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

// Expected values computed independently (Python: hmac.new(key, msg, hashlib.sha256)).
TEST(WebhookSignatureTest, HmacSha256MatchesKnownVectors) {
  EXPECT_EQ(HmacSha256Hex("key", "The quick brown fox jumps over the lazy dog"),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  EXPECT_EQ(HmacSha256Hex("", ""),
            "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST(WebhookSignatureTest, SignsTheTimeDotBody) {
  EXPECT_EQ(WebhookSignature("whsec_test", 1700000000, R"({"id":"evt_1"})"),
            "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925");
}

TEST(WebhookSignatureTest, AnyChangeOfTimeBodyOrKeyChangesTheSignature) {
  const std::string base = WebhookSignature("k", 100, "body");
  EXPECT_NE(WebhookSignature("k", 101, "body"), base);
  EXPECT_NE(WebhookSignature("k", 100, "body "), base);
  EXPECT_NE(WebhookSignature("k2", 100, "body"), base);
}

}  // namespace
}  // namespace sluice
