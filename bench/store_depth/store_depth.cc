// sluice_store_depth: submit, claim and finish cost of the embedded store (SQLite) at queue
// depths, through the Store interface the server uses (the real engine, its real statements).
//
//   sluice_store_depth --dir /tmp/x --depths 1000,1000000 --batches 1,100 --iterations 300 --runs 3
//
// For each depth D (ascending; the deeper ones add rows to the same store): fill the queue with
// due jobs up to D (submits of 1 000, not timed), then repeat --iterations times, for each batch
// size B: submit B new due jobs (one call, one durable commit), claim B (the B oldest due jobs,
// from the head of the queue), finish those B as done with a small result. The depth stays D
// throughout. Each call is timed; the iterations are split into --runs groups and each group
// gives its median per call, so the caller gets median/min/max over runs.
// Prints one JSON object. --no-durable turns fsync off (the cost of the statements alone).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/ids.h"
#include "core/job.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {
namespace {

struct Options {
  std::string dir;
  std::vector<long> depths = {1000, 1000000};
  std::vector<int> batches = {1, 100};
  int iterations = 300;
  int runs = 3;
  bool durable = true;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "sluice_store_depth: %s\n", why.c_str());
  std::exit(2);
}

template <typename T>
std::vector<T> ParseList(const std::string& text) {
  std::vector<T> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(static_cast<T>(std::atol(item.c_str())));
  }
  return out;
}

Millis Now() { return SystemClock::Instance().now(); }

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A classify_ticket job as the API stores one (prompt version and schema resolved).
Job TicketJob(long n, Millis now) {
  Job job;
  job.id = NewId("job_", now);
  job.created_at = now;
  job.spec.type = "classify_ticket";
  job.spec.input_json = R"({"text":"I was charged twice for one purchase, ticket d-)" + std::to_string(n) + "\"}";
  job.spec.source = "bench";
  job.spec.prompt_version = "v1";
  job.spec.response_schema = "ticket_class_v1";
  job.spec.run_at = now;
  return job;
}

void Submit(Store& store, long first, long count) {
  std::vector<Job> jobs;
  jobs.reserve(static_cast<std::size_t>(count));
  const Millis now = Now();
  for (long i = 0; i < count; ++i) jobs.push_back(TicketJob(first + i, now));
  auto r = store.submit_jobs(jobs);
  if (!r.ok()) Die("submit: " + r.status().ToString());
  for (const auto& o : *r) {
    if (o.deduplicated) Die("submit: unexpected dedup");
  }
}

std::vector<Job> Claim(Store& store, int limit) {
  const Millis now = Now();
  auto r = store.claim_jobs(ClaimRequest{.queue = "default", .limit = limit, .owner = "bench-depth",
                                         .now = now, .lease_until = now + 60'000});
  if (!r.ok()) Die("claim: " + r.status().ToString());
  if (static_cast<int>(r->size()) != limit) Die("claim: got " + std::to_string(r->size()) + " of " + std::to_string(limit));
  return std::move(r).value();
}

void Finish(Store& store, const std::vector<Job>& jobs) {
  std::vector<AttemptFinish> items;
  items.reserve(jobs.size());
  const Millis now = Now();
  for (const Job& j : jobs) {
    items.push_back(AttemptFinish{.job_id = j.id, .attempt = j.attempt, .lease_owner = j.lease_owner,
                                  .outcome = AttemptOutcome::kDone, .now = now,
                                  .result_json = R"({"output":{"category":"billing","urgent":false}})",
                                  .attempt_json = R"({"n":1,"outcome":"ok","ms":0})"});
  }
  auto r = store.finish_attempts(items);
  if (!r.ok()) Die("finish: " + r.status().ToString());
  for (const Status& s : *r) {
    if (!s.ok()) Die("finish item: " + s.ToString());
  }
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

std::string JsonList(const std::vector<double>& v) {
  std::ostringstream out;
  out << "[";
  for (std::size_t i = 0; i < v.size(); ++i) out << (i ? ", " : "") << v[i];
  out << "]";
  return out.str();
}

int Run(const Options& o) {
  auto opened = Store::Open(StoreOptions{.data_dir = o.dir, .durable = o.durable});
  if (!opened.ok()) Die("open: " + opened.status().ToString());
  Store& store = **opened;
  long depth = 0;
  long serial = 0;
  std::printf("{\"durable\": %s, \"iterations\": %d, \"runs\": %d, \"depths\": [", o.durable ? "true" : "false",
              o.iterations, o.runs);
  bool first_depth = true;
  for (long target : o.depths) {
    const auto fill0 = std::chrono::steady_clock::now();
    while (depth < target) {
      long n = std::min(1000L, target - depth);
      Submit(store, serial, n);
      serial += n;
      depth += n;
    }
    const double fill_s = Seconds(fill0, std::chrono::steady_clock::now());
    // per batch size, per op: the call times of each run group, in microseconds
    std::map<int, std::map<std::string, std::vector<std::vector<double>>>> times;
    for (int b : o.batches) {
      for (const char* op : {"submit", "claim", "finish"}) times[b][op].resize(static_cast<std::size_t>(o.runs));
    }
    for (int i = 0; i < o.iterations; ++i) {
      const auto group = static_cast<std::size_t>(i * o.runs / o.iterations);
      for (int b : o.batches) {
        auto t0 = std::chrono::steady_clock::now();
        Submit(store, serial, b);
        serial += b;
        auto t1 = std::chrono::steady_clock::now();
        std::vector<Job> claimed = Claim(store, b);
        auto t2 = std::chrono::steady_clock::now();
        Finish(store, claimed);
        auto t3 = std::chrono::steady_clock::now();
        times[b]["submit"][group].push_back(Seconds(t0, t1) * 1e6);
        times[b]["claim"][group].push_back(Seconds(t1, t2) * 1e6);
        times[b]["finish"][group].push_back(Seconds(t2, t3) * 1e6);
      }
    }
    std::printf("%s\n {\"depth\": %ld, \"fill_s\": %.3f, \"batches\": {", first_depth ? "" : ",", depth, fill_s);
    first_depth = false;
    bool first_batch = true;
    for (auto& [b, ops] : times) {
      std::printf("%s\"%d\": {", first_batch ? "" : ", ", b);
      first_batch = false;
      bool first_op = true;
      for (auto& [op, groups] : ops) {
        std::vector<double> medians;
        for (auto& g : groups) medians.push_back(Median(g));
        std::printf("%s\"%s_us\": %s", first_op ? "" : ", ", op.c_str(), JsonList(medians).c_str());
        first_op = false;
      }
      std::printf("}");
    }
    std::printf("}}");
    std::fflush(stdout);
  }
  std::printf("]}\n");
  return 0;
}

}  // namespace
}  // namespace sluice

int main(int argc, char** argv) {
  sluice::Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) sluice::Die("missing value after " + a);
      return argv[++i];
    };
    if (a == "--dir") o.dir = value();
    else if (a == "--depths") o.depths = sluice::ParseList<long>(value());
    else if (a == "--batches") o.batches = sluice::ParseList<int>(value());
    else if (a == "--iterations") o.iterations = std::atoi(value().c_str());
    else if (a == "--runs") o.runs = std::atoi(value().c_str());
    else if (a == "--no-durable") o.durable = false;
    else sluice::Die("unknown argument " + a);
  }
  if (o.dir.empty() || o.depths.empty() || o.batches.empty() || o.iterations < 1 || o.runs < 1 ||
      o.runs > o.iterations) {
    sluice::Die("usage: sluice_store_depth --dir DIR [--depths 1000,1000000] [--batches 1,100] "
                "[--iterations 300] [--runs 3] [--no-durable]");
  }
  std::sort(o.depths.begin(), o.depths.end());
  return sluice::Run(o);
}
