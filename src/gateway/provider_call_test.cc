// Usage and cost of a provider's answer: cached and reasoning tokens read from OpenAI's usage
// details and priced at the alias's own prices for them, defaults, rounding to nano-USD.
#include "gateway/provider_call.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace sluice {
namespace {

ModelConfig Priced() {
  ModelConfig m;
  m.alias = "fast";
  m.provider = "primary";
  m.id = "gpt-4o-mini";
  m.input_usd_per_mtok = 2.0;
  m.output_usd_per_mtok = 8.0;
  return m;
}

HttpResponse Answer(const std::string& usage) {
  HttpResponse r;
  r.status = 200;
  r.body = R"({"model":"gpt-4o-mini","choices":[{"message":{"role":"assistant","content":"hi"},)"
           R"("finish_reason":"stop"}],"usage":)" +
           usage + "}";
  return r;
}

TEST(ProviderCallTest, ReadsCachedAndReasoningTokensFromTheUsageDetails) {
  CallResult r = ClassifyResponse(
      Priced(),
      Answer(R"({"prompt_tokens":1000,"completion_tokens":300,"total_tokens":1300,)"
             R"("prompt_tokens_details":{"cached_tokens":600},)"
             R"("completion_tokens_details":{"reasoning_tokens":200}})"),
      0);
  ASSERT_EQ(r.outcome, CallOutcome::kOk) << r.message;
  EXPECT_EQ(r.prompt_tokens, 1000);
  EXPECT_EQ(r.completion_tokens, 300);
  EXPECT_EQ(r.cached_tokens, 600);
  EXPECT_EQ(r.reasoning_tokens, 200);
  // No prices of their own: the input and output prices. 1000 × 2 + 300 × 8 = 4 400 µUSD.
  EXPECT_EQ(r.cost_usd, 0.0044);
}

TEST(ProviderCallTest, PricesCachedAndReasoningTokensAtTheAliasPrices) {
  ModelConfig m = Priced();
  m.cached_input_usd_per_mtok = 0.5;
  m.reasoning_usd_per_mtok = 12.0;
  CallResult r =
      ClassifyResponse(m,
                       Answer(R"({"prompt_tokens":1000,"completion_tokens":300,)"
                              R"("prompt_tokens_details":{"cached_tokens":600},)"
                              R"("completion_tokens_details":{"reasoning_tokens":200}})"),
                       0);
  ASSERT_EQ(r.outcome, CallOutcome::kOk) << r.message;
  // 400 × 2 + 600 × 0.5 + 100 × 8 + 200 × 12 = 800 + 300 + 800 + 2 400 = 4 300 µUSD.
  EXPECT_EQ(r.cost_usd, 0.0043);
}

TEST(ProviderCallTest, DetailsNeverExceedTheCountsTheyArePartOf) {
  ModelConfig m = Priced();
  m.cached_input_usd_per_mtok = 0;
  CallResult r = ClassifyResponse(m,
                                  Answer(R"({"prompt_tokens":10,"completion_tokens":5,)"
                                         R"("prompt_tokens_details":{"cached_tokens":50},)"
                                         R"("completion_tokens_details":{"reasoning_tokens":-3}})"),
                                  0);
  EXPECT_EQ(r.cached_tokens, 10);
  EXPECT_EQ(r.reasoning_tokens, 0);
  EXPECT_EQ(r.cost_usd, CallCost(m, 10, 5, 10, 0));
  EXPECT_EQ(r.cost_usd, 5 * 8.0 / 1e6);
}

TEST(ProviderCallTest, CostIsAWholeNumberOfNanoUsd) {
  ModelConfig m = Priced();
  m.input_usd_per_mtok = 0.0377;  // 37.7 nano-USD per token
  m.output_usd_per_mtok = 0;
  const double cost = CallCost(m, 3, 0);  // 113.1 nano-USD
  EXPECT_EQ(std::llround(cost * 1e9), 113);
  EXPECT_EQ(cost, 113 / 1e9);
  EXPECT_EQ(CallCost(m, 0, 0), 0.0);
}

TEST(ProviderCallTest, UnpricedMeansTokensWithoutACost) {
  ModelConfig free = Priced();
  free.input_usd_per_mtok = 0;
  free.output_usd_per_mtok = 0;
  CallResult r = ClassifyResponse(free, Answer(R"({"prompt_tokens":10,"completion_tokens":5})"), 0);
  EXPECT_TRUE(r.unpriced());
  CallResult priced =
      ClassifyResponse(Priced(), Answer(R"({"prompt_tokens":10,"completion_tokens":5})"), 0);
  EXPECT_FALSE(priced.unpriced());
  CallResult none =
      ClassifyResponse(free, Answer(R"({"prompt_tokens":0,"completion_tokens":0})"), 0);
  EXPECT_FALSE(none.unpriced());
}

TEST(ProviderCallTest, TheWorstCaseCoversTheDearestPrice) {
  ModelConfig m = Priced();
  m.reasoning_usd_per_mtok = 100.0;
  boost::json::object request{{"messages", boost::json::array{}}, {"max_tokens", 1000}};
  EXPECT_DOUBLE_EQ(EstimateCallCost(m, request), 1000 * 100.0 / 1e6);
}

}  // namespace
}  // namespace sluice
