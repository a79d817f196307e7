// sluice_due_tenants_cost: what fair share adds to a claim, through the Store interface the
// scheduler uses (the real engine, its real statements). The scheduler asks due_tenants before
// each claim of a queue (scheduler/scheduler.cc), so its cost beside a claim's is the figure.
//
//   sluice_due_tenants_cost --dir /tmp/x | --url postgres://... [--flood N] [--iterations N]
//
// Fills the queue with --flood due jobs of one tenant ("acme"), then times, per call (median
// and p99 over --iterations, in microseconds):
//   1. due_tenants alone;                       claim of 1 job (then released: depth stays);
//   2. + --flood not-yet-due jobs of "later" (the walk must not step over them);
//   3. + 100 tenants with one due job each (the walk visits each).
// Prints one JSON object. The store is not durable (fsync off): these are the statements' costs.
// On PostgreSQL each phase starts with ANALYZE jobs, as bench/pg_claim_depth.py does: before its
// first (auto)analyze a freshly filled table has no statistics, and the planner then serves the
// walk's seeks (and claim's) from jobs_queued_age with a sort, tens of ms per call.
#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
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
  std::string url;
  long flood = 100'000;
  int iterations = 2'000;
};

[[noreturn]] void Die(const std::string& why) {
  std::fprintf(stderr, "sluice_due_tenants_cost: %s\n", why.c_str());
  std::exit(2);
}

Millis Now() {
  return SystemClock::Instance().now();
}

void Submit(Store& store, const std::string& tenant, long count, Millis run_at) {
  const Millis now = Now();
  for (long done = 0; done < count;) {
    std::vector<Job> jobs;
    for (long i = 0; i < 1'000 && done < count; ++i, ++done) {
      Job job;
      job.id = NewId("job_", now);
      job.created_at = now;
      job.spec.tenant = tenant;
      job.spec.type = "classify_ticket";
      job.spec.input_json = R"({"text":"I was charged twice"})";
      job.spec.priority = static_cast<int>(done % 3) + 4;
      job.spec.run_at = run_at;
      jobs.push_back(std::move(job));
    }
    if (auto r = store.submit_jobs(jobs); !r.ok()) Die("submit: " + r.status().ToString());
  }
}

void Analyze(const Options& o) {
  if (o.url.empty()) return;
  PGconn* conn = PQconnectdb(o.url.c_str());
  PGresult* r = PQexec(conn, "ANALYZE jobs");
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  PQclear(r);
  if (!ok) Die(std::string("ANALYZE: ") + PQerrorMessage(conn));
  PQfinish(conn);
}

struct Figures {
  double median_us = 0;
  double p99_us = 0;
};

template <typename Call>
Figures Time(int iterations, Call call) {
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(iterations));
  for (int i = 0; i < iterations; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    call();
    us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return Figures{us[us.size() / 2], us[us.size() * 99 / 100]};
}

void Measure(Store& store, const Options& o, const char* name, std::size_t want_tenants,
             bool first) {
  Analyze(o);
  Figures due = Time(o.iterations, [&] {
    auto r = store.due_tenants("default", Now(), 1'000);
    if (!r.ok()) Die("due_tenants: " + r.status().ToString());
    if (r->size() != want_tenants) {
      Die("due_tenants: " + std::to_string(r->size()) + " tenants, want " +
          std::to_string(want_tenants));
    }
  });
  Figures claim = Time(o.iterations, [&] {
    const Millis now = Now();
    auto r = store.claim_jobs(ClaimRequest{.queue = "default",
                                           .limit = 1,
                                           .owner = "bench-fair",
                                           .now = now,
                                           .lease_until = now + 60'000});
    if (!r.ok() || r->size() != 1) Die("claim failed");
    if (auto released = store.release_leases("bench-fair", now); !released.ok()) Die("release");
  });
  std::printf(
      "%s\n  \"%s\": {\"due_tenants_us\": {\"median\": %.1f, \"p99\": %.1f}, "
      "\"claim_1_and_release_us\": {\"median\": %.1f, \"p99\": %.1f}}",
      first ? "" : ",", name, due.median_us, due.p99_us, claim.median_us, claim.p99_us);
  std::fflush(stdout);
}

int Run(const Options& o) {
  auto opened = Store::Open(StoreOptions{.data_dir = o.dir, .url = o.url, .durable = false});
  if (!opened.ok()) Die("open: " + opened.status().ToString());
  Store& store = **opened;
  const Millis now = Now();
  std::printf("{\"engine\": \"%s\", \"flood\": %ld, \"iterations\": %d,",
              o.url.empty() ? "sqlite" : "postgres", o.flood, o.iterations);
  Submit(store, "acme", o.flood, now);
  Measure(store, o, "one_tenant_flood", 1, true);
  Submit(store, "later", o.flood, now + 86'400'000);
  Measure(store, o, "plus_a_future_flood", 1, false);
  for (int t = 0; t < 100; ++t) Submit(store, "t" + std::to_string(1000 + t), 1, now);
  Measure(store, o, "plus_100_small_tenants", 101, false);
  std::printf("\n}\n");
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
    if (a == "--dir")
      o.dir = value();
    else if (a == "--url")
      o.url = value();
    else if (a == "--flood")
      o.flood = std::atol(value().c_str());
    else if (a == "--iterations")
      o.iterations = std::atoi(value().c_str());
    else
      sluice::Die("unknown argument " + a);
  }
  if ((o.dir.empty() && o.url.empty()) || o.flood < 1 || o.iterations < 1) {
    sluice::Die(
        "usage: sluice_due_tenants_cost --dir DIR | --url postgres://... "
        "[--flood 100000] [--iterations 2000]");
  }
  return sluice::Run(o);
}
