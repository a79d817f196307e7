#include "retention/retention_runner.h"

#include <algorithm>
#include <chrono>

#include <spdlog/spdlog.h>

#include "core/guarded.h"

namespace sluice {

RetentionOptions RetentionOptions::ForWindow(Millis window, Millis audit_window) {
  RetentionOptions options;
  options.window = window;
  options.audit_window = audit_window;
  Millis shorter = window > 0 ? window : audit_window;
  if (audit_window > 0) shorter = std::min(shorter, audit_window);
  options.every = std::clamp<Millis>(shorter / 10, 1'000, 10 * 60'000);
  options.first_after = std::min(options.every, options.first_after);
  return options;
}

RetentionRunner::RetentionRunner(Store& store, BlobStore& blobs, const Clock& clock,
                                 RetentionOptions options)
    : store_(store), blobs_(blobs), clock_(clock), options_(options) {}

RetentionRunner::~RetentionRunner() {
  stop();
}

void RetentionRunner::start() {
  if ((options_.window <= 0 && options_.audit_window <= 0) || thread_.joinable()) return;
  if (options_.window > 0) {
    spdlog::info("retention: deleting what ended more than {} s ago, a pass every {} s",
                 options_.window / 1000, options_.every / 1000);
  }
  if (options_.audit_window > 0) {
    spdlog::info("retention: deleting audit records older than {} s, whole days at a time",
                 options_.audit_window / 1000);
  }
  thread_ = std::thread([this] { loop(); });
}

void RetentionRunner::stop() {
  stop_requested_ = true;
  {
    MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void RetentionRunner::loop() {
  Millis wait = options_.first_after;
  for (;;) {
    {
      MutexLock lock(mu_);
      wake_.wait_for(mu_, std::chrono::milliseconds(wait), [this] {
        mu_.assert_held();
        return stopping_;
      });
      if (stopping_) return;
    }
    // pass() catches what its work throws; this guard is for the rest (its logging).
    (void)RunGuarded("retention: a pass", [this] { (void)pass(); });
    wait = options_.every;
  }
}

RetentionReport RetentionRunner::pass() {
  RetentionReport report;
  auto log = [](const std::string& line) { spdlog::error("{}", line); };
  if (options_.audit_window > 0) {
    report.status =
        RunGuarded("retention: pruning the audit log", [&] { return prune_audit(report); }, log);
    if (!report.status.ok()) {
      spdlog::warn("retention: audit pruning stopped (next pass in {} ms): {}", options_.every,
                   report.status.ToString());
    }
  }
  if (options_.window <= 0) return report;
  const Millis cut = clock_.now() - options_.window;
  // Jobs first: the blobs they alone referred to go in the same pass.
  // An exception (a std::filesystem call of the blob store, std::bad_alloc) ends the pass like
  // an error would: it is reported, and the next pass starts afresh.
  report.status = RunGuarded("retention: purging jobs", [&] { return purge(cut, report); }, log);
  if (report.status.ok()) {
    report.status =
        RunGuarded("retention: collecting blobs", [&] { return collect_blobs(cut, report); }, log);
  }
  if (!report.status.ok()) {
    spdlog::warn("retention: pass stopped (next one in {} ms): {}", options_.every,
                 report.status.ToString());
  }
  if (report.purged.jobs + report.purged.batches + report.purged.files + report.blobs > 0) {
    spdlog::info(
        "retention: deleted {} jobs, {} batches and {} files that ended before {}, "
        "and {} blobs unused since",
        report.purged.jobs, report.purged.batches, report.purged.files, FormatRfc3339(cut),
        report.blobs);
  }
  return report;
}

Status RetentionRunner::purge(Millis cut, RetentionReport& report) {
  while (!stop_requested_) {
    ASSIGN_OR_RETURN(PurgeCounts counts, store_.purge_finished(cut, options_.jobs_per_transaction));
    report.purged.jobs += counts.jobs;
    report.purged.batches += counts.batches;
    report.purged.files += counts.files;
    if (counts.jobs == 0 && counts.batches == 0 && counts.files == 0) break;
  }
  return Status::Ok();
}

Status RetentionRunner::prune_audit(RetentionReport& report) {
  constexpr Millis kDay = 24LL * 3600 * 1000;
  const Millis cut = (clock_.now() - options_.audit_window) / kDay * kDay;
  while (!stop_requested_) {
    ASSIGN_OR_RETURN(std::int64_t n, store_.prune_audit(cut, options_.audit_per_transaction));
    report.audit_records += n;
    if (n == 0) break;
  }
  if (report.audit_records > 0) {
    spdlog::info("retention: deleted {} audit records made before {}", report.audit_records,
                 FormatRfc3339(cut));
  }
  return Status::Ok();
}

Status RetentionRunner::collect_blobs(Millis cut, RetentionReport& report) {
  BlobKey after;
  while (!stop_requested_) {
    ASSIGN_OR_RETURN(std::vector<BlobKey> old,
                     blobs_.list_older(cut, after, options_.blobs_per_page));
    for (const BlobKey& blob : old) {
      // The order that makes a racing submit safe (retention_runner.h): the reference first,
      // then a remove that re-checks the age.
      ASSIGN_OR_RETURN(bool referenced, store_.blob_referenced(blob.tenant, blob.id));
      if (referenced) continue;
      ASSIGN_OR_RETURN(bool removed, blobs_.remove(blob.tenant, blob.id, cut));
      if (removed) ++report.blobs;
    }
    if (static_cast<int>(old.size()) < options_.blobs_per_page) break;
    after = old.back();
  }
  return Status::Ok();
}

}  // namespace sluice
