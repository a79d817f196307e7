#include "cli/serve_command.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <limits>
#include <random>
#include <thread>

#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>

#include "api/api_context.h"
#include "api/batch_json.h"
#include "api/job_request.h"
#include "api/job_view.h"
#include "api/routes.h"
#include "batches/batch_runner.h"
#include "cli/stop_signals.h"
#include "events/event_stream.h"
#include "events/webhook_dispatcher.h"
#include "events/webhook_target.h"
#include "gateway/http_client.h"
#include "http/server.h"
#include "schedules/schedule_runner.h"
#include "store/open/open_blob_store.h"
#include "worker/prepared_call.h"

namespace sluice {

namespace {

std::string LeaseOwner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rd() % 1000000);
}

Result<Config> LoadConfig(const ServeFlags& flags) {
  Result<Config> config = flags.config_path.empty() ? Config::Parse("", std::filesystem::current_path())
                                                    : Config::Load(flags.config_path);
  if (!config.ok()) return config;
  if (!flags.listen.empty()) config->server.listen = flags.listen;
  if (!flags.data_dir.empty()) config->server.data_dir = flags.data_dir;
  if (!flags.store.empty()) config->server.store = flags.store;
  if (!flags.tasks_dir.empty()) config->tasks_dir = flags.tasks_dir;
  return config;
}

// Waits until `done` holds or `limit` ms pass.
template <typename Pred>
bool WaitFor(Pred done, Millis limit) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(limit);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  const StopSignals stop_signals;  // before any thread starts

  auto config_result = LoadConfig(flags);
  if (!config_result.ok()) {
    spdlog::error("config: {}", config_result.status().ToString());
    return 2;
  }
  const Config config = std::move(config_result).value();
  const Clock& clock = SystemClock::Instance();

  std::error_code ec;
  std::filesystem::create_directories(config.server.data_dir, ec);
  auto store_result = Store::Open({config.server.data_dir, config.server.store, config.server.durable});
  if (!store_result.ok()) {
    spdlog::error("store: {}", store_result.status().ToString());
    return 2;
  }
  std::unique_ptr<Store> store = std::move(store_result).value();
  auto tasks_result = TaskRegistry::Load(config.tasks_dir);
  if (!tasks_result.ok()) {
    spdlog::error("tasks: {}", tasks_result.status().ToString());
    return 2;
  }
  const TaskRegistry tasks = std::move(tasks_result).value();
  // Shared mode keeps blobs in the shared database, so every node sees every blob.
  auto blobs_result = OpenBlobStore({config.server.data_dir, config.server.store, config.server.durable}, clock);
  if (!blobs_result.ok()) {
    spdlog::error("blobs: {}", blobs_result.status().ToString());
    return 2;
  }
  BlobStore& blobs = **blobs_result;

  http::EventLoop loop(config.server.io_threads);
  // Plain http:// providers go through the Asio client on the event loop (O(1) per call);
  // https:// (and http:// behind a proxy) through libcurl, for TLS verification and proxies.
  std::unique_ptr<HttpClient> http_client = NewRoutingHttpClient(NewAsioHttpClient(loop), NewCurlHttpClient());
  ModelGateway gateway(config, *http_client, clock, loop);
  for (const auto& name : tasks.names()) {
    const TaskType* task = tasks.find(name);
    if (!task->model.empty() && !gateway.has_alias(task->model)) {
      spdlog::warn("task {}: model alias '{}' is not configured; its jobs run on the built-in 'local' model",
                   name, task->model);
    }
  }
  JobWatch watch;
  // Set once draining gives up on the attempts still in flight.
  std::atomic<bool> giving_up{false};
  FinishCommitter finisher([&store, &giving_up](std::vector<AttemptFinish>& items) {
    // An outcome that is not written leaves its job running under this node's lease, which the
    // heartbeat keeps renewing: no node would ever run it again. So a store that fails for a
    // while (a PostgreSQL restart, a full disk) is waited out, and the later finishes queue behind.
    // Writing again is safe: a finish whose first write did commit finds its attempt over
    // (kAborted) and changes nothing. Only a stopping node gives up; its leases then run out
    // and another node runs the jobs again.
    std::chrono::milliseconds pause(50);
    for (;;) {
      auto statuses = store->finish_attempts(items);
      if (statuses.ok()) return std::move(statuses).value();
      // A failure of the whole batch is the store's (unreachable, disk full, I/O), never one
      // item's (those come back per item), so it is worth waiting out whatever its code.
      if (giving_up.load()) {
        spdlog::error("store: finishing {} attempts failed: {}", items.size(), statuses.status().ToString());
        return std::vector<Status>(items.size(), statuses.status());
      }
      spdlog::warn("store: finishing {} attempts failed, retrying in {} ms: {}", items.size(), pause.count(),
                   statuses.status().ToString());
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::milliseconds(2'000));
    }
  });
  Worker worker(WorkerDeps{config, tasks, blobs, gateway, finisher, loop, watch, clock, config.worker});
  const std::string owner = LeaseOwner();
  Scheduler scheduler(*store, clock, SchedulerOptions{config.worker, config.queues, owner}, worker,
                      [&watch](const Job& job) { watch.notify(job.id); });
  worker.set_slot_freed([&scheduler](const std::string& queue) { scheduler.slot_freed(queue); });

  if (store->exclusive()) {
    // Only this process uses the embedded store, so every running lease is a dead process's:
    // take those jobs back now instead of waiting for their leases to run out.
    auto recovered = store->reap_expired_leases(std::numeric_limits<Millis>::max());
    if (recovered.ok() && !recovered->empty()) {
      spdlog::info("recovered {} jobs left running by a previous process", recovered->size());
    }
  }

  // Scheduled batches ([[schedule]]): a bad cron or an unknown task type stops the start here.
  auto schedules = ScheduleRunner::Create(ScheduleDeps{
      config, tasks, blobs, gateway, *store, clock,
      (std::filesystem::path(config.server.data_dir) / "schedules.json").string(),
      [&scheduler](const std::string& queue) { scheduler.wake(queue); }});
  if (!schedules.ok()) {
    spdlog::error("config: {}", schedules.status().message());
    return 2;
  }
  // Webhooks: their own libcurl client (http and https alike), whose every connection passes
  // the SSRF guard on the address it actually connects to (events/webhook_target.h).
  const WebhookTargetPolicy webhook_policy(config.webhooks.allow_hosts);
  std::unique_ptr<HttpClient> webhook_client = NewCurlHttpClient(CurlClientOptions{
      .max_connections = config.webhooks.concurrency,
      .address_guard = [&webhook_policy](std::string_view host, const sockaddr& address) {
        return webhook_policy.check_connect(host, address);
      }});
  const char* secret = std::getenv(config.webhooks.secret_env.c_str());
  if (!secret || !*secret) {
    spdlog::warn("webhooks: ${} is not set: deliveries go out without Sluice-Signature, so receivers "
                 "cannot tell them from forgeries",
                 config.webhooks.secret_env);
  }
  WebhookDispatcher webhooks(
      *store, *webhook_client, clock, webhook_policy,
      WebhookRenderers{
          .job = [&store, &clock](const std::string& tenant, const std::string& job_id) -> Result<std::string> {
            ASSIGN_OR_RETURN(Job job, store->get_job(tenant, job_id));
            // An ended job is never waiting for a slot: queue_full does not apply.
            return boost::json::serialize(JobView(*store, job, clock.now(), false));
          },
          .batch = [&store](const std::string& tenant, const std::string& batch_id) -> Result<std::string> {
            ASSIGN_OR_RETURN(Batch batch, store->get_batch(tenant, batch_id));
            return boost::json::serialize(BatchToJson(batch));
          }},
      WebhookDispatcherOptions{.owner = owner,
                               .secret = secret ? secret : "",
                               .retry = {.base = config.webhooks.retry_base,
                                         .max = config.webhooks.retry_max,
                                         .max_attempts = config.webhooks.max_attempts,
                                         .max_age = config.webhooks.max_age},
                               .timeout = config.webhooks.timeout,
                               .concurrency = config.webhooks.concurrency,
                               .poll = 1'000,
                               .lease = config.webhooks.timeout + 30'000});
  if (store->exclusive()) {
    // As with jobs: every webhook lease at start is a dead process's.
    (void)store->release_webhook_leases("", clock.now());
  }
  // Other nodes' events reach a shared store's streams only by polling; on PostgreSQL events
  // also wait to settle (store.h events_after), so poll often there.
  EventStreamHub event_stream(*store, EventStreamOptions{.poll = store->exclusive() ? 1'000 : 200});

  SubmitGroupCommit submitter(*store);
  // Batches (src/batches): each line's job is validated and defaulted exactly as POST /v1/jobs
  // does it; new jobs wake the scheduler.
  BatchRunner batch_runner(
      *store, clock,
      [&](const boost::json::value& body, const std::string& tenant, Millis now) {
        return ParseJobRequest(body, JobRequestContext{config, tasks, blobs, gateway, now, tenant});
      },
      owner, [&scheduler](const std::string& queue) { scheduler.wake(queue); },
      BatchRunnerOptions{.take_over_leases_at_start = store->exclusive()});
  ApiContext ctx{config, *store, submitter, tasks, blobs, gateway, scheduler, worker, watch, loop, clock};
  ctx.batches = &batch_runner;
  ctx.event_stream = &event_stream;
  Router router;
  AddAllRoutes(ctx, router);

  loop.start();
  http::ServerOptions server_options;
  server_options.listen = config.server.listen;
  server_options.max_body = config.server.max_body;
  // Batch input files are larger than any other body: server.max_file, plus room for the
  // multipart framing around the file.
  server_options.body_limits.push_back(
      {.method = "POST", .path = "/v1/files", .max_body = config.server.max_file + (64 << 10)});
  auto server = http::Server::Start(loop, server_options, [&router](http::Request&& req, http::Responder res) {
    router.dispatch(std::move(req), std::move(res));
  });
  if (!server.ok()) {
    spdlog::error("listen {}: {}", config.server.listen, server.status().ToString());
    loop.stop();
    return 2;
  }
  scheduler.start();
  batch_runner.start();
  event_stream.start();
  webhooks.start();
  // Commits that queued webhooks or appended events wake their feeders at once; polls are only
  // the safety net.
  store->set_commit_listener([&webhooks, &event_stream](const CommitNews& news) {
    if (news.webhooks > 0) webhooks.wake();
    if (news.events > 0) event_stream.wake();
  });
  // Work committed by other nodes (or by this one) wakes the scheduler at once; on an embedded
  // store this is a no-op and submits wake it directly.
  store->set_wake_handler([&scheduler](const std::string& queue) { scheduler.wake(queue); });
  (*schedules)->start();
  spdlog::info("sluice serving on {} (data {}, tasks {}, {} task types)", config.server.listen,
               config.server.data_dir, config.tasks_dir, tasks.names().size());

  const int sig = stop_signals.wait();
  spdlog::info("signal {}: draining (grace {} ms, {} attempts in flight)", sig, config.worker.grace,
               worker.in_flight());

  // Drain: no new connections or claims; running calls get the grace period; the rest are
  // aborted and their leases released, so another process starts them at once.
  (*server)->stop();
  (*schedules)->stop();
  batch_runner.stop();  // a batch it was working on stays leased until the lease runs out
  event_stream.stop();  // ends the open streams: their clients reconnect to another node
  scheduler.stop_claiming();
  WaitFor([&] { return worker.in_flight() == 0; }, config.worker.grace);
  giving_up = true;
  worker.abort_all();
  WaitFor([&] { return worker.in_flight() == 0; }, 5'000);
  // Ends what is still in flight (sync-path calls) while the gateway that gets the answers is
  // alive; nothing calls the client after this.
  http_client.reset();
  finisher.stop();
  submitter.stop();
  // Deliveries in flight get a moment; the rest are handed back, due at once for the next node.
  webhooks.stop(std::min<Millis>(config.worker.grace, 5'000));
  store->set_commit_listener(nullptr);
  webhook_client.reset();
  store->set_wake_handler(nullptr);  // no wake-up may reach the scheduler once it is gone
  scheduler.stop();
  if (auto released = store->release_leases(owner, clock.now()); released.ok() && *released > 0) {
    spdlog::info("released {} leases", *released);
  }
  loop.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sluice
