#include "cli/serve_command.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>

#include <spdlog/spdlog.h>

#include "api/api_context.h"
#include "api/job_request.h"
#include "api/mask_pii_request.h"
#include "api/request_gate.h"
#include "api/routes.h"
#include "batches/batch_runner.h"
#include "cli/logging.h"
#include "cli/serve_config.h"
#include "cli/stop_signals.h"
#include "cli/webhook_renderers.h"
#include "events/event_stream.h"
#include "events/webhook_dispatcher.h"
#include "events/webhook_target.h"
#include "gateway/http_client.h"
#include "http/server.h"
#include "privacy/pii_masker.h"
#include "audit/audit_sealer.h"
#include "retention/retention_runner.h"
#include "scheduler/scheduler.h"
#include "schedules/schedule_runner.h"
#include "store/attempt_writer.h"
#include "store/group_commit.h"
#include "store/lease_takeover.h"
#include "store/open/open_blob_store.h"
#include "worker/worker.h"

namespace sluice {

namespace {

// This process's lease owner id: host, pid, and a random part so that a restarted process with
// a reused pid is not taken for its predecessor.
std::string LeaseOwner() {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  std::random_device rd;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" + std::to_string(rd() % 1000000);
}

}  // namespace

int RunServe(const ServeFlags& flags) {
  const StopSignals stop_signals;  // before any thread starts

  auto config_result = LoadServeConfig(flags);
  if (!config_result.ok()) {
    spdlog::error("config: {}", config_result.status().ToString());
    return 2;
  }
  const Config config = std::move(config_result).value();
  StartLogging(config.log);
  const struct LogsWritten {
    ~LogsWritten() { StopLogging(); }
  } logs_written;  // on every return: the lines still queued go out
  const Clock& clock = SystemClock::Instance();
  // Task files before the store: a mistake in them must not leave a new data dir behind.
  auto tasks_result = TaskRegistry::Load(config.tasks_dir);
  if (!tasks_result.ok()) {
    spdlog::error("tasks: {}", tasks_result.status().ToString());
    return 2;
  }
  const TaskRegistry tasks = std::move(tasks_result).value();

  std::error_code ec;
  std::filesystem::create_directories(config.server.data_dir, ec);
  auto store_result = Store::Open({config.server.data_dir, config.server.store, config.server.durable,
                                   config.retention.dedup_window, config.audit.enabled});
  if (!store_result.ok()) {
    spdlog::error("store: {}", store_result.status().ToString());
    return 2;
  }
  std::unique_ptr<Store> store = std::move(store_result).value();
  auto authenticator = NewAuthenticator(config, *store, clock);
  if (!authenticator.ok()) {
    spdlog::error("{}", authenticator.status().message());
    return 2;
  }
  // Shared mode keeps blobs in the shared database, so every node sees every blob.
  auto blobs_result = OpenBlobStore({config.server.data_dir, config.server.store, config.server.durable}, clock);
  if (!blobs_result.ok()) {
    spdlog::error("blobs: {}", blobs_result.status().ToString());
    return 2;
  }
  BlobStore& blobs = **blobs_result;
  // [retention] jobs: its own thread deletes what ended longer ago (nothing when 0).
  RetentionRunner retention(*store, blobs, clock,
                            RetentionOptions::ForWindow(config.retention.jobs, config.retention.audit));
  // Seals audit entries into the chain; also with [audit] off, for what an earlier run left.
  AuditSealer audit_sealer(*store, {});

  // [privacy]: a pattern RE2 rejects stops the start, naming its rule.
  auto pii_masker = privacy::PiiMasker::FromConfig(config.privacy);
  if (!pii_masker.ok()) {
    spdlog::error("config: {}", pii_masker.status().message());
    return 2;
  }

  http::EventLoop loop(config.server.io_threads);
  // Plain http:// providers go through the Asio client on the event loop (O(1) per call);
  // https:// (and http:// behind a proxy) through libcurl, for TLS verification and proxies.
  std::unique_ptr<HttpClient> http_client = NewRoutingHttpClient(NewAsioHttpClient(loop), NewCurlHttpClient());
  ModelGateway gateway(config, *http_client, clock, loop);
  WarnAboutUnconfiguredModels(tasks, gateway);
  JobWatch watch;
  AttemptWriter attempt_writer(
      *store, clock,
      AttemptWriterOptions{.on_retry = [](const Status& error, std::size_t finishes, Millis pause) {
        spdlog::warn("store: finishing {} attempts failed, retrying in {} ms: {}", finishes, pause,
                     error.ToString());
      }});
  // Tenants' budgets and weights, read from the store and cached (worker/budget_gate.h).
  BudgetGate budget_gate(*store, clock, BudgetGateOptions{.tenant_ttl = config.auth.key_cache});
  Worker worker(WorkerDeps{config, tasks, blobs, gateway, attempt_writer, loop, watch, clock,
                           config.worker, &budget_gate, pii_masker->get()});
  const std::string owner = LeaseOwner();
  SchedulerOptions scheduler_options{config.worker, config.queues, owner};
  scheduler_options.tenant_weight = [&budget_gate](const std::string& tenant) {
    return budget_gate.weight_of(tenant);
  };
  // Claim no more than the providers can start: a job waiting for a provider slot stays queued.
  scheduler_options.start_capacity = [&gateway] { return gateway.provider_capacity(); };
  Scheduler scheduler(*store, clock, std::move(scheduler_options), worker,
                      [&watch](const Job& job) { watch.notify(job.id); });
  worker.set_slot_freed([&scheduler](const std::string& queue) { scheduler.slot_freed(queue); });

  if (auto taken = TakeOverDeadProcessLeases(*store, clock.now()); !taken.ok()) {
    spdlog::warn("store: taking back a previous process's leases: {}", taken.status().ToString());
  } else if (taken->jobs > 0) {
    spdlog::info("recovered {} jobs left running by a previous process", taken->jobs);
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
  WebhookDispatcher webhooks(
      *store, *webhook_client, clock, webhook_policy, ApiWebhookRenderers(*store, clock),
      WebhookDispatcherOptionsFor(config, owner, WebhookSecretFromEnv(config.webhooks)));
  EventStreamHub event_stream(*store, EventStreamOptionsFor(*store, config.events));

  SubmitGroupCommit submitter(*store);
  // Batches (src/batches): each line's job is validated and defaulted exactly as POST /v1/jobs
  // does it; new jobs wake the scheduler.
  TenantMaskCache batch_tenants_mask(*store, clock);
  BatchRunner batch_runner(
      *store, clock,
      [&](const boost::json::value& body, const std::string& tenant, Millis now) {
        return ParseJobRequest(body, JobRequestContext{config, tasks, blobs, gateway, now, tenant,
                                                       batch_tenants_mask.masks(tenant)});
      },
      owner, [&scheduler](const std::string& queue) { scheduler.wake(queue); },
      BatchRunnerOptions{.take_over_leases_at_start = store->exclusive()});
  ApiContext ctx{config, *store, submitter, tasks, blobs, gateway, scheduler, worker, watch, loop, clock};
  ctx.batches = &batch_runner;
  ctx.event_stream = &event_stream;
  ctx.pii_masker = pii_masker->get();
  ctx.auth = std::move(authenticator).value();
  ctx.quotas = std::make_unique<auth::TenantQuotas>(clock);
  Router router;
  AddAllRoutes(ctx, router);
  router.set_gate(MakeRequestGate(ctx));

  loop.start();
  http::ServerOptions server_options = ApiServerOptions(config.server);
  server_options.access_log = AccessLog(config.log);
  auto server = http::Server::Start(loop, std::move(server_options),
                                    [&router](http::Request&& req, http::Responder res) {
                                      router.dispatch(std::move(req), std::move(res));
                                    });
  if (!server.ok()) {
    spdlog::error("listen {}: {}", config.server.listen, server.status().ToString());
    loop.stop();
    return 2;
  }
  attempt_writer.start();
  budget_gate.start();
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
  retention.start();
  audit_sealer.start();
  spdlog::info("sluice serving on {} (data {}, tasks {}, {} task types)", config.server.listen,
               config.server.data_dir, config.tasks_dir, tasks.names().size());

  const int sig = stop_signals.wait();
  spdlog::info("signal {}: draining (grace {} ms, {} attempts in flight)", sig, config.worker.grace,
               worker.in_flight());
  // First of all: no claim and no provider call starts after the signal. Attempts not yet at a
  // provider are handed back to the queue by the worker, due at once for another node.
  scheduler.stop_claiming();
  gateway.stop_starting();

  // Drain: no new connections or claims; running calls get the grace period; the rest are
  // aborted and their leases released, so another process starts them at once.
  (*server)->stop();
  (*schedules)->stop();
  retention.stop();  // a pass in progress ends after its current transaction
  batch_runner.stop();  // a batch it was working on stays leased until the lease runs out
  event_stream.stop();  // ends the open streams: their clients reconnect to another node
  worker.drain(std::chrono::milliseconds(config.worker.grace));
  // Ends what is still in flight (sync-path calls) while the gateway that gets the answers is
  // alive; nothing calls the client after this.
  http_client.reset();
  attempt_writer.stop();
  submitter.stop();
  // Deliveries in flight get a moment; the rest are handed back, due at once for the next node.
  webhooks.stop();
  store->set_commit_listener(nullptr);
  webhook_client.reset();
  store->set_wake_handler(nullptr);  // no wake-up may reach the scheduler once it is gone
  scheduler.stop();
  if (auto released = store->release_leases(owner, clock.now()); released.ok() && *released > 0) {
    spdlog::info("released {} leases", *released);
  }
  audit_sealer.stop();  // seals what the last finishes appended
  loop.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace sluice
