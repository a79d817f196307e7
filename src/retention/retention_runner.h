// Retention ([retention] jobs in API.md "Configuration"): what ended longer ago than the window
// is deleted, off the hot path, on a thread of its own. Each pass, with cut = now - window:
// 1. Store::purge_finished(cut) in small transactions until it returns zeros: terminal jobs
//    (done, failed, expired, canceled; never review or live ones) that finished before the cut,
//    with their results, attempts, events, webhook deliveries and blob references, and final
//    batches that ended before it, with their files and line errors.
// 2. Blob GC: every blob last put or renewed before the cut that no remaining job refers to
//    (Store::blob_referenced) is removed (BlobStore::remove).
// Every node of a cluster runs one; on PostgreSQL their purges pass over each other's rows.
//
// Why a blob GC racing with a submit cannot lose a job's blob. A submit that names a blob
// (api/job_request.cc) does (a) BlobStore::renew — the blob's age starts again, or the job is
// refused when the blob is gone — then (b) commits the job with its job_blobs row. The GC does
// (1) list the blobs older than the cut, (2) blob_referenced, (3) remove(cut), which deletes
// only if the blob's age is still before the cut at the moment of the delete (atomically on
// each engine: blobs/file_blob_store.h, store/postgres/postgres_blob_store.h). For a submit and
// the GC of the same blob:
// - (b) before (2): the GC sees the reference and keeps the blob.
// - (b) after (2), so (a) came before (b): if (a) came before (3)'s delete, the age is now
//   later than the cut and (3) keeps the blob; if after it, (a) finds no blob and the submit
//   answers 400 "no blob" — no job refers to what was deleted.
// This takes a submit to commit less than a window after its renew (windows are days; even a
// test's "1s" is far longer than a commit).
//
// Thread-safety: pass() may be called from any one thread (tests drive it with a FakeClock);
// start() runs it on the runner's own thread, and then nothing else may call it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <thread>

#include "blobs/blob_store.h"
#include "core/mutex.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

struct RetentionOptions {
  Millis window = 0;            // [retention] jobs; 0: keep everything
  // [retention] audit: records made before the start of the UTC day `audit_window` ago are
  // pruned (Store::prune_audit), so that whole days go and the chain stays verifiable from the
  // anchor. 0: kept forever. start() runs nothing while both windows are 0.
  Millis audit_window = 0;
  int audit_per_transaction = 5'000;
  Millis every = 10 * 60'000;   // between passes
  Millis first_after = 30'000;  // the first pass, this long after start()
  int jobs_per_transaction = 500;
  int blobs_per_page = 500;

  // The options for the windows: a pass every tenth of the shorter one, at least every 10
  // minutes and at most every second, so that a short window (a test's) is kept to closely too.
  static RetentionOptions ForWindow(Millis window, Millis audit_window = 0);
};

// What one pass deleted.
struct RetentionReport {
  PurgeCounts purged;
  std::int64_t blobs = 0;
  std::int64_t audit_records = 0;
  // The first error: the pass stopped there, and the next one starts over. Deleting is
  // idempotent, so whatever it did before stays done.
  Status status;
};

class RetentionRunner {
 public:
  // `store`, `blobs` and `clock` must outlive the runner.
  RetentionRunner(Store& store, BlobStore& blobs, const Clock& clock, RetentionOptions options);
  ~RetentionRunner();
  RetentionRunner(const RetentionRunner&) = delete;
  RetentionRunner& operator=(const RetentionRunner&) = delete;

  // Starts the thread: a pass first_after from now, then every `every`. Nothing when the
  // window is 0.
  void start();
  // Stops the thread; a pass in progress ends after its current transaction. Idempotent.
  void stop();

  // One whole pass at clock.now(), logged when it deleted anything or failed.
  RetentionReport pass();

 private:
  void loop();
  Status purge(Millis cut, RetentionReport& report);
  Status collect_blobs(Millis cut, RetentionReport& report);
  Status prune_audit(RetentionReport& report);

  Store& store_;
  BlobStore& blobs_;
  const Clock& clock_;
  const RetentionOptions options_;

  Mutex mu_;
  std::condition_variable_any wake_;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::atomic<bool> stop_requested_{false};  // read between the transactions of a pass
  std::thread thread_;
};

}  // namespace sluice
