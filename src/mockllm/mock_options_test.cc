#include "mockllm/mock_options.h"

#include <gtest/gtest.h>

namespace sluice::mockllm {
namespace {

std::vector<std::string> Names(const std::vector<Fault>& script) {
  std::vector<std::string> names;
  for (const Fault& f : script) names.push_back(FaultName(f));
  return names;
}

TEST(ParseFaultScript, NamesStatusesAndRepeats) {
  Result<std::vector<Fault>> script = ParseFaultScript(" 500, garbage ,ok,429*2,503,timeout,reset,truncated");
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_EQ(Names(*script), (std::vector<std::string>{"500", "garbage", "ok", "429", "429", "503", "timeout",
                                                      "reset", "truncated"}));
  EXPECT_EQ((*script)[0].kind, FaultKind::kHttpError);
  EXPECT_EQ((*script)[0].status, 500);
  EXPECT_EQ((*script)[3].kind, FaultKind::kRateLimit);
  EXPECT_TRUE(ParseFaultScript("").ok());
  EXPECT_TRUE(ParseFaultScript("")->empty());
}

TEST(ParseFaultScript, RejectsUnknownNamesAndBadRepeats) {
  EXPECT_FALSE(ParseFaultScript("500,boom").ok());
  EXPECT_FALSE(ParseFaultScript("200").ok());
  EXPECT_FALSE(ParseFaultScript("ok*0").ok());
  EXPECT_FALSE(ParseFaultScript("ok*x").ok());
  EXPECT_EQ(ParseFaultScript("boom").status().field(), "script");
}

TEST(ParseMockConfigJson, AppliesOnTopOfBase) {
  MockOptions base;
  base.latency_ms = 250;
  base.retry_after_s = 9;
  Result<MockOptions> o = ParseMockConfigJson(
      R"({"error_rate": 0.25, "rate_429": 0.5, "script": ["500", 429, "ok"], "latency_distribution": "lognormal",
          "latency_sigma": 0.8, "seed": 7, "models": ["a", "b", "c"]})",
      base);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  EXPECT_EQ(o->latency_ms, 250);  // kept from base
  EXPECT_EQ(o->retry_after_s, 9);
  EXPECT_DOUBLE_EQ(o->error_rate, 0.25);
  EXPECT_DOUBLE_EQ(o->rate_429, 0.5);
  EXPECT_EQ(Names(o->script), (std::vector<std::string>{"500", "429", "ok"}));
  EXPECT_EQ(o->latency_distribution, LatencyDistribution::kLogNormal);
  EXPECT_DOUBLE_EQ(o->latency_sigma, 0.8);
  EXPECT_EQ(o->seed, 7u);
  EXPECT_EQ(o->models.size(), 3u);
}

TEST(ParseMockConfigJson, RejectsBadInput) {
  EXPECT_FALSE(ParseMockConfigJson("not json").ok());
  EXPECT_FALSE(ParseMockConfigJson("[1]").ok());
  EXPECT_EQ(ParseMockConfigJson(R"({"eror_rate": 0.1})").status().field(), "eror_rate");
  EXPECT_EQ(ParseMockConfigJson(R"({"error_rate": 1.5})").status().field(), "error_rate");
  EXPECT_FALSE(ParseMockConfigJson(R"({"error_rate": "0.1"})").ok());
  EXPECT_FALSE(ParseMockConfigJson(R"({"latency_ms": -5})").ok());
  EXPECT_FALSE(ParseMockConfigJson(R"({"error_status": 429})").ok());
  EXPECT_FALSE(ParseMockConfigJson(R"({"latency_distribution": "pareto"})").ok());
  EXPECT_FALSE(ParseMockConfigJson(R"({"error_rate": 0.6, "rate_429": 0.6})").ok());
  EXPECT_TRUE(ParseMockConfigJson(R"({"error_rate": 0.5, "rate_429": 0.5})").ok());
}

TEST(MockOptionsToJson, RoundTrips) {
  MockOptions o;
  o.listen = "127.0.0.1:0";
  o.latency_ms = 100;
  o.latency_jitter_ms = 20;
  o.garbage_rate = 0.125;
  o.error_status = 503;
  o.script = *ParseFaultScript("503,ok");
  o.timeout_hold_ms = 1234;
  Result<MockOptions> back = ParseMockConfigJson(MockOptionsToJson(o));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(MockOptionsToJson(*back), MockOptionsToJson(o));
  EXPECT_EQ(back->listen, "127.0.0.1:0");
  EXPECT_EQ(back->error_status, 503);
  EXPECT_EQ(back->timeout_hold_ms, 1234);
}

}  // namespace
}  // namespace sluice::mockllm
