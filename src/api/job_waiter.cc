#include "api/job_waiter.h"

#include <memory>
#include <mutex>

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

// Registers for the next change first, then reads: a change that lands in between still wakes us.
void WatchAndCheck(const std::shared_ptr<WaitState>& st) {
  {
    std::lock_guard lock(st->mu);
    if (st->finished) return;
    st->token = st->ctx.watch.watch(st->job_id, [st] { WatchAndCheck(st); });
  }
  auto job = st->ctx.store.get_job(st->tenant, st->job_id);
  if (!job.ok() || IsSettled(job->status)) Finish(st, std::move(job));
}

}  // namespace

void WaitForJob(ApiContext& ctx, const std::string& tenant, const std::string& job_id, Millis wait,
                std::function<void(Result<Job>)> done) {
  auto st = std::make_shared<WaitState>(ctx, tenant, job_id, std::move(done));
  {
    std::lock_guard lock(st->mu);
    st->timer = ctx.loop.post_after(wait, [st] {
      Finish(st, st->ctx.store.get_job(st->tenant, st->job_id));
    });
  }
  WatchAndCheck(st);
}

}  // namespace sluice
