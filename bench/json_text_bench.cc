// What json/json_text.h costs against Boost.JSON's own serializer, which it replaced on every
// answer a client reads (the submit path's 202 body among them): both write the same values —
// a job object as GET /v1/jobs/{id} answers it, and a result record with attempts and numbers —
// side by side in one run. Google Benchmark; not run by ctest.
//
//   sluice_json_text_bench [--benchmark_repetitions=5 --benchmark_report_aggregates_only=true]
#include <benchmark/benchmark.h>

#include <boost/json.hpp>

#include "json/json_text.h"

namespace {

namespace json = boost::json;

// Shaped like api/job_json.cc's job object (a 202's body).
const json::value& Job() {
  static const json::value job = json::parse(R"({"id":"job_01M8ZM9NH422RWR7A2PY88AT5A","object":"job",
    "type":"classify_ticket","status":"queued","queue":"default","priority":5,"object_id":"ticket-1",
    "source":null,"prompt_version":"v2","response_schema":"ticket_class_v1","model":null,"fallback":true,
    "dedup_key":"classify_ticket:ticket-1:v2","attempt":0,"max_attempts":3,
    "created_at":"2026-12-04T04:16:35.408Z","run_at":"2026-12-04T04:16:35.408Z","started_at":null,
    "finished_at":null,"deadline":null,"next_attempt_at":null,"cost_usd":0.0,"cost_limit_usd":null,
    "blocked_reason":null,"error":null,"metadata":{"customer":"acme","channel":"chat"},"deduplicated":false})");
  return job;
}

// Shaped like worker/attempt_outcome.cc's result record (doubles, nested arrays, Cyrillic text).
const json::value& Result() {
  static const json::value result = json::parse(R"({"job_id":"job_01M8ZM9NH422RWR7A2PY88AT5A",
    "output":{"category":"early_repayment","urgent":false,"confidence":0.93,
    "summary":"Внес 8 600 $ в счет досрочного погашения 21.08, а график платежей не изменился"},
    "text":"{\"category\":\"early_repayment\",\"urgent\":false,\"confidence\":0.93}","model":"gpt-4o-mini",
    "model_alias":"fast","provider":"mock","prompt_version":"v2","response_schema":"ticket_class_v1",
    "params":{"temperature":0,"max_tokens":300},"usage":{"prompt_tokens":412,"completion_tokens":38,
    "total_tokens":450},"cost_usd":0.00006285,"queue_ms":120,"processing_ms":1840,"finish_reason":"stop",
    "degraded":false,"attempts":[{"n":1,"provider":"mock","model":"gpt-4o-mini","model_alias":"fast",
    "started_at":"2026-12-04T04:16:35.408Z","ms":301.25,"outcome":"ok","usage":{"prompt_tokens":412,
    "completion_tokens":38,"total_tokens":450},"cost_usd":0.00006285,"params":{"temperature":0}}]})");
  return result;
}

void BM_Boost(benchmark::State& state, const json::value& (*value)()) {
  const json::value& v = value();
  for (auto _ : state) benchmark::DoNotOptimize(json::serialize(v));
}

void BM_JsonText(benchmark::State& state, const json::value& (*value)()) {
  const json::value& v = value();
  for (auto _ : state) benchmark::DoNotOptimize(sluice::JsonText(v));
}

BENCHMARK_CAPTURE(BM_Boost, job, Job);
BENCHMARK_CAPTURE(BM_JsonText, job, Job);
BENCHMARK_CAPTURE(BM_Boost, result, Result);
BENCHMARK_CAPTURE(BM_JsonText, result, Result);

}  // namespace

BENCHMARK_MAIN();
