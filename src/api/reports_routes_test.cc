// GET /v1/reports/costs (reports_routes.cc, cost_report.cc) against the real router and a real
// SqliteStore: figures from the cost ledger, currency conversion, the sync path's rows, and
// 400s for an unknown currency and a malformed month. (Which tenant sees what needs keys: see
// tests/integration/test_costs.py.)
#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "api/api_test_server.h"
#include "api/cost_report.h"

namespace sluice {
namespace {

using testing::ApiReply;
using testing::ApiTestServer;
using testing::ExpectApiError;

ApiTestServer::Options WithRates() {
  ApiTestServer::Options o;
  o.extra_toml = "\n[billing]\nrates = {KZT = 520.0, EUR = 0.92}\n";
  return o;
}

CallCharge Call(std::string alias, std::int64_t nanos, std::int64_t prompt = 100) {
  return CallCharge{.provider = "primary",
                    .model_alias = alias,
                    .model_id = alias + "-model",
                    .prompt_tokens = prompt,
                    .completion_tokens = 10,
                    .cost_nano_usd = nanos};
}

TEST(ReportsRoutesTest, AMonthWithoutCallsHasNoTenants) {
  ApiTestServer api(WithRates());
  ApiReply r = api.get("/v1/reports/costs?month=2026-11");
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("month").as_string(), "2026-11");
  EXPECT_EQ(r.body.at("currency").as_string(), "USD");
  EXPECT_EQ(r.body.at("usd_rate").to_number<double>(), 1.0);
  EXPECT_TRUE(r.body.at("tenants").as_array().empty());
}

TEST(ReportsRoutesTest, SumsTheLedgerPerTenantModelAndTaskTypeInTheAskedCurrency) {
  ApiTestServer api(WithRates());
  api.run_job_with_calls({Call("fast", 1'000'001), Call("strong", 2'000'003)});
  api.run_job_with_calls({Call("fast", 3'000'005, 50)});
  const std::string month = MonthOf(SystemClock::Instance().now());

  ApiReply r = api.get("/v1/reports/costs?currency=kzt");  // this month by default
  ASSERT_EQ(r.status, 200) << r.text;
  EXPECT_EQ(r.body.at("month").as_string(), month);
  EXPECT_EQ(r.body.at("currency").as_string(), "KZT");
  EXPECT_EQ(r.body.at("usd_rate").to_number<double>(), 520.0);
  const boost::json::array& tenants = r.body.at("tenants").as_array();
  ASSERT_EQ(tenants.size(), 1u);
  const boost::json::object& t = tenants[0].as_object();
  EXPECT_EQ(t.at("tenant").as_string(), "default");
  EXPECT_EQ(t.at("jobs").as_int64(), 2);
  EXPECT_EQ(t.at("calls").as_int64(), 3);
  EXPECT_EQ(t.at("prompt_tokens").as_int64(), 250);
  EXPECT_EQ(t.at("completion_tokens").as_int64(), 30);
  EXPECT_EQ(t.at("cost_nano_usd").as_int64(), 6'000'009);
  EXPECT_EQ(t.at("cost_usd").to_number<double>(), 6'000'009 / 1e9);
  EXPECT_EQ(t.at("cost").to_number<double>(), 6'000'009 / 1e9 * 520.0);
  EXPECT_EQ(t.at("unpriced_calls").as_int64(), 0);

  const boost::json::array& by_model = t.at("by_model").as_array();
  ASSERT_EQ(by_model.size(), 2u);
  EXPECT_EQ(by_model[0].at("model_alias").as_string(), "fast");
  EXPECT_EQ(by_model[0].at("model").as_string(), "fast-model");
  EXPECT_EQ(by_model[0].at("provider").as_string(), "primary");
  EXPECT_EQ(by_model[0].at("calls").as_int64(), 2);
  EXPECT_EQ(by_model[0].at("cost_nano_usd").as_int64(), 4'000'006);
  EXPECT_EQ(by_model[1].at("model_alias").as_string(), "strong");
  EXPECT_EQ(by_model[1].at("cost").to_number<double>(), 2'000'003 / 1e9 * 520.0);
  const boost::json::array& by_type = t.at("by_task_type").as_array();
  ASSERT_EQ(by_type.size(), 1u);
  EXPECT_EQ(by_type[0].at("task_type").as_string(), "ticket");
  EXPECT_EQ(by_type[0].at("calls").as_int64(), 3);

  ApiReply eur = api.get("/v1/reports/costs?currency=EUR&month=" + month);
  ASSERT_EQ(eur.status, 200) << eur.text;
  EXPECT_EQ(eur.body.at("tenants").at(0).at("cost").to_number<double>(), 6'000'009 / 1e9 * 0.92);
  ApiReply usd = api.get("/v1/reports/costs?currency=USD&month=" + month);
  EXPECT_EQ(usd.body.at("tenants").at(0).at("cost").to_number<double>(), 6'000'009 / 1e9);
}

TEST(ReportsRoutesTest, ASyncCallIsInTheReportAsTaskTypeSync) {
  ApiTestServer api(WithRates());
  ApiReply chat = api.post("/v1/chat/completions",
                           R"({"model": "fast", "messages": [{"role": "user", "content": "hi"}]})");
  ASSERT_EQ(chat.status, 200) << chat.text;
  // The settlement runs off the loop after the answer: wait for it, by condition.
  ApiReply r;
  for (int i = 0; i < 500; ++i) {
    r = api.get("/v1/reports/costs");
    if (r.status == 200 && !r.body.at("tenants").as_array().empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(r.body.at("tenants").as_array().size(), 1u) << r.text;
  const boost::json::value& t = r.body.at("tenants").at(0);
  EXPECT_EQ(t.at("jobs").as_int64(), 0);
  EXPECT_EQ(t.at("calls").as_int64(), 1);
  EXPECT_EQ(t.at("prompt_tokens").as_int64(), chat.body.at("usage").at("prompt_tokens").as_int64());
  EXPECT_EQ(t.at("by_task_type").at(0).at("task_type").as_string(), "sync");
  EXPECT_EQ(t.at("by_model").at(0).at("provider").as_string(), "local");
  EXPECT_EQ(t.at("unpriced_calls").as_int64(), 0);  // the local model is free, not unpriced
}

TEST(ReportsRoutesTest, AnUnknownCurrencyIs400NamingTheField) {
  ApiTestServer api(WithRates());
  ApiReply r = api.get("/v1/reports/costs?month=2026-11&currency=GBP");
  ExpectApiError(r, 400, "invalid_argument", "currency");
  EXPECT_NE(r.text.find("KZT"), std::string::npos) << r.text;     // says which ones exist
  EXPECT_EQ(api.get("/v1/reports/costs?currency=").status, 200);  // empty: the default, USD
}

TEST(ReportsRoutesTest, AMalformedMonthIs400NamingTheField) {
  ApiTestServer api(WithRates());
  for (const char* month : {"2026-13", "2026-1", "nov", "2026-11-01", ""}) {
    ExpectApiError(api.get(std::string("/v1/reports/costs?month=") + month), 400,
                   "invalid_argument", "month");
  }
}

TEST(CostReportTest, FindCurrencyDefaultsToUsd) {
  BillingConfig billing{.rates = {{"KZT", 520.0}}};
  EXPECT_EQ(FindCurrency(billing, "")->code, "USD");
  EXPECT_EQ(FindCurrency(billing, "usd")->usd_rate, 1.0);
  EXPECT_EQ(FindCurrency(billing, "KZT")->usd_rate, 520.0);
  EXPECT_EQ(FindCurrency(billing, "EUR").status().field(), "currency");
}

}  // namespace
}  // namespace sluice
