// Scheduled batches: at each fire of a [[schedule]]'s cron expression, every new file of its
// inbox folder, or every new line of its drop file, becomes a job.
//
// Decisions (ARCHITECTURE.md "schedules"):
// - New = never submitted. Each job's dedup key is "schedule:<name>:<sha256 of the content>"
//   (a file's bytes, or a drop-file line), and the store's dedup keeps one job per key, so a
//   file is never processed twice: not on the next fire, not after a restart, not when several
//   nodes fire the same schedule on a shared store. The same content under another name is the
//   same job. Files are never deleted or moved (archive or clean the folder as you like).
// - Inbox: regular files directly in the folder, in name order; names starting with "." are
//   skipped, so write "<.name>" and rename it into place to hand over a complete file. An empty
//   file is left for a later fire. Content over 64 KiB goes to the blob store and the job
//   carries the blob id. Content that is not UTF-8 is skipped with a warning.
// - Drop file: only lines ending in a newline count (a line being appended is left for the next
//   fire). A line is a JSON string (the text), an object with "text", or job fields
//   (client/job_line.h); the schedule's queue, priority and metadata fill what the line lacks.
// - Every job goes through ParseJobRequest (api/job_request.h), like a POST /v1/jobs: same
//   defaults, same checks. An invalid file or line is logged and skipped; the rest go on.
// - Missed fires: the last fire time of each schedule is kept in <data_dir>/schedules.json. A
//   fire that fell while the server was down runs once at start (several missed fires are one
//   run: they would find the same files). A schedule seen for the first time starts from now:
//   nothing fires for the past. A fire that cannot submit (store unreachable) is tried again
//   30 s later and counts as done only once it has submitted.
// Thread-safety: run_due() and the thread started by start() must not run at the same time;
// use one or the other.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/time.h"
#include "gateway/gateway.h"
#include "schedules/cron.h"
#include "schedules/schedule_state.h"
#include "store/store.h"
#include "tasks/registry.h"

namespace sluice {

struct ScheduleDeps {
  const Config& config;  // its `schedules`, and what ParseJobRequest checks against
  const TaskRegistry& tasks;
  BlobStore& blobs;
  const ModelGateway& gateway;
  Store& store;
  const Clock& clock;
  std::string state_path;                              // e.g. <data_dir>/schedules.json
  std::function<void(const std::string& queue)> on_submitted;  // wakes the scheduler (optional)
};

// What one fire of one schedule did.
struct FireReport {
  std::string schedule;
  Millis at = 0;
  int items = 0;         // files or lines looked at
  int created = 0;       // new jobs
  int deduplicated = 0;  // submitted before (the same content)
  int invalid = 0;       // skipped, with a warning in the log
  Status status;         // not OK: the fire did not complete and will be tried again
};

class ScheduleRunner {
 public:
  static constexpr std::int64_t kBlobThreshold = 64 * 1024;
  static constexpr Millis kRetryAfterFailure = 30'000;

  // Checks every schedule (cron expression, task type) and reads the state file:
  // InvalidArgument naming the schedule and what is wrong.
  static Result<std::unique_ptr<ScheduleRunner>> Create(ScheduleDeps deps);
  // Create's checks of the schedules alone, with nothing opened (`sluice config check`).
  static Status Check(const Config& config, const TaskRegistry& tasks);
  ~ScheduleRunner();

  // Fires every schedule that is due at clock.now(); returns a report per fire.
  std::vector<FireReport> run_due();
  // When `name` fires next (nullopt for an unknown name).
  std::optional<Millis> next_fire(const std::string& name) const;

  // A thread that calls run_due() at each fire time. It looks at the clock at least once a
  // second, so a clock moved by hand (a test's FakeClock) is seen soon; wake() looks at once.
  void start();
  void wake();
  void stop();

 private:
  struct Entry {
    const ScheduleConfig* config;
    CronExpr cron;
    Millis next = 0;
  };

  explicit ScheduleRunner(ScheduleDeps deps);
  FireReport fire(const Entry& entry, Millis now);
  void loop();

  ScheduleDeps deps_;
  ScheduleState state_;
  std::vector<Entry> entries_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool woken_ = false;     // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace sluice
