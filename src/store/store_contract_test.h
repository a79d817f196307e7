// The Store contract suite (store_contract_test.cc) runs against every engine. An engine's own
// test file instantiates it with a factory:
//
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContractTest,
//                            testing::Values(StoreEngine{"sqlite", OpenMySqliteStore}),
//                            StoreEngineName);
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "store/store.h"

namespace sluice {

struct StoreEngine {
  std::string name;
  // Opens the store kept in `dir` (a fresh temporary directory per test; the same dir again
  // to reopen). Returns nullptr when it cannot.
  std::function<std::unique_ptr<Store>(const std::string& dir)> open;
  // The first column of the first row of `sql` (a count) on the database of the store kept in
  // `dir`, read behind the store's back: for what the Store interface cannot show, such as rows
  // that must be gone. -1 when it cannot be read.
  std::function<std::int64_t(const std::string& dir, const std::string& sql)> count;
};

// The time the contract tests start at (any fixed instant works; this one is in 2027).
inline constexpr Millis kT0 = 1'800'000'000'000;

// The value of `result`, or a failed expectation and T{} (so a test goes on and reports more).
template <typename T>
T ValueOf(Result<T> result) {
  if (!result.ok()) {
    ADD_FAILURE() << "unexpected error: " << result.status().ToString();
    return T{};
  }
  return std::move(result).value();
}

// A queued job with the fields claim order depends on; everything else defaulted. Shared by
// the contract test files.
inline Job QueuedJob(std::string id, std::string tenant = kDefaultTenant, int priority = 5,
                     Millis run_at = kT0, std::string queue = "default") {
  Job job;
  job.id = std::move(id);
  job.created_at = kT0;
  job.spec.tenant = std::move(tenant);
  job.spec.type = "classify";
  job.spec.input_json = R"({"text":"hello"})";
  job.spec.queue = std::move(queue);
  job.spec.priority = priority;
  job.spec.run_at = run_at;
  return job;
}

// One model call of the attempt `job` is running (the cost ledger's and the audit log's tests).
inline CallCharge ChargeOf(const Job& job, std::string alias, std::int64_t nanos,
                           Millis at = kT0) {
  return CallCharge{.tenant = job.spec.tenant,
                    .job_id = job.id,
                    .attempt = job.attempt,
                    .task_type = job.spec.type,
                    .provider = "primary",
                    .model_alias = alias,
                    .model_id = alias + "-id",
                    .at = at,
                    .prompt_tokens = 100,
                    .completion_tokens = 20,
                    .cached_tokens = 40,
                    .reasoning_tokens = 5,
                    .cost_nano_usd = nanos};
}

inline std::vector<std::string> Ids(const std::vector<Job>& jobs) {
  std::vector<std::string> ids;
  for (const Job& job : jobs) ids.push_back(job.id);
  return ids;
}

inline void PrintTo(const StoreEngine& engine, std::ostream* os) {
  *os << engine.name;
}

inline std::string StoreEngineName(const testing::TestParamInfo<StoreEngine>& info) {
  return info.param.name;
}

class StoreContractTest : public testing::TestWithParam<StoreEngine> {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Closes the store and opens it again over the same data.
  void Reopen();

  // Shorthands that fail the test on an error, to keep each test about its behaviour.
  Job Submit(const Job& job);
  std::vector<Job> Claim(int limit, Millis now, const std::string& owner = "node-a",
                         const std::string& queue = "default", Millis lease_for = 30'000);
  Status Finish(const AttemptFinish& item);
  Job Get(const std::string& id, const std::string& tenant = kDefaultTenant);
  // A finish item for the attempt `job` is running now (kDone carries a small result).
  static AttemptFinish FinishOf(const Job& job, AttemptOutcome outcome, Millis now);

  std::string dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace sluice
