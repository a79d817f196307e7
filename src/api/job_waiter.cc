#include "api/job_waiter.h"

#include <memory>
#include <mutex>

#include "api/off_loop.h"

namespace sluice {

namespace {

struct WaitState {
  WaitState(ApiContext& c, std::string t, std::string id, std::function<void(Result<Job>)> d)
      : ctx(c), tenant(std::move(t)), job_id(std::move(id)), done(std::move(d)) {}
  ApiContext& ctx;
  std::string tenant;
  std::string job_id;
  std::function<void(Result<Job>)> done;
  std::mutex mu;
  bool finished = false;             // GUARDED_BY(mu)
  std::uint64_t token = 0;           // GUARDED_BY(mu): the current watch registration
  std::shared_ptr<http::Timer> timer;  // GUARDED_BY(mu)
};

void Finish(const std::shared_ptr<WaitState>& st, Result<Job> job) {
  {
    std::lock_guard lock(st->mu);
    if (st->finished) return;
    st->finished = true;
    if (st->timer) st->timer->cancel();
    st->ctx.watch.unwatch(st->job_id, st->token);
  }
  st->done(std::move(job));
}

// Registers for the next change first, then reads: a change that lands in between still wakes
// us. The read is shared with the other waiters of the job (api/shared_job_reads.h) and runs on
// the blocking pool, never on the thread that woke us (a loop thread for the timer, the
// notifier's for a change). A full pool ends the wait at once with PoolBusy (503): dropping the
// wake-up instead could leave the client waiting for a change that already happened.
void WatchAndCheck(const std::shared_ptr<WaitState>& st) {
  {
    std::lock_guard lock(st->mu);
    if (st->finished) return;
    st->token = st->ctx.watch.watch(st->job_id, [st] { WatchAndCheck(st); });
  }
  const bool queued = st->ctx.job_reads->read(
      *st->ctx.blocking, st->tenant, st->job_id, [st](const Result<Job>& job) {
        if (!job.ok() || IsSettled(job->status)) Finish(st, job);
      });
  if (!queued) Finish(st, PoolBusy());
}

}  // namespace

void WaitForJob(ApiContext& ctx, const std::string& tenant, const std::string& job_id, Millis wait,
                std::function<void(Result<Job>)> done) {
  auto st = std::make_shared<WaitState>(ctx, tenant, job_id, std::move(done));
  {
    std::lock_guard lock(st->mu);
    st->timer = ctx.loop.post_after(wait, [st] {
      const bool queued = st->ctx.blocking->run([st] {
        Finish(st, st->ctx.store.get_job(st->tenant, st->job_id));
      });
      if (!queued) Finish(st, PoolBusy());
    });
  }
  WatchAndCheck(st);
}

}  // namespace sluice
