// Health, readiness and Prometheus metrics.
//
// /healthz answers from memory only, on the loop thread: it must answer while the store hangs
// (a stopped PostgreSQL, a disk stuck in fsync), which is when it is asked most. It reports the
// store's last known health and asks for a fresh ping (off the loop) when that is old. /readyz
// answers from a recent ping, or waits for one on the blocking pool; a ping that has hung for a
// while answers "not ready" at once. /metrics and /v1/stats read the store off the loop.
#include <boost/json.hpp>

#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"

namespace sluice {

namespace json = boost::json;

namespace {

// A health answer older than this asks for a new ping.
constexpr Millis kHealthRefresh = 1'000;
// A ping running longer than this means the store is not answering.
constexpr Millis kPingStalled = 1'000;

json::object StoreHealthJson(const StoreHealth::Snapshot& s, Millis now) {
  json::object o;
  const bool stalled = s.pending_since && now - *s.pending_since >= kPingStalled;
  if (stalled) {
    o["state"] = "not_answering";
  } else if (!s.checked) {
    o["state"] = "unknown";
  } else {
    o["state"] = s.ok ? "ok" : "failing";
  }
  o["checked_at"] = s.checked ? json::value(FormatRfc3339(s.checked_at)) : json::value(nullptr);
  if (s.checked && !s.ok) o["error"] = s.error;
  o["ping_pending_ms"] = s.pending_since ? json::value(now - *s.pending_since) : json::value(nullptr);
  return o;
}

json::object PoolJson(const BlockingPool::Load& load) {
  return json::object{{"threads", load.threads},
                      {"running", load.running},
                      {"queued", load.queued},
                      {"max_queued", load.max_queued},
                      {"refused", load.refused}};
}

void Healthz(ApiContext& ctx, const http::Responder& responder) {
  const Millis now = ctx.clock.now();
  StoreHealth::Snapshot s = ctx.store_health->snapshot();
  if (!s.pending_since && (!s.checked || now - s.checked_at >= kHealthRefresh)) {
    (void)ctx.store_health->check(*ctx.blocking);  // a full pool: the next call asks again
  }
  // Alive is about this process: 200 even while the store fails (that is /readyz's answer).
  SendJson(responder, 200,
           json::object{{"status", "ok"},
                        {"store", StoreHealthJson(s, now)},
                        {"blocking", PoolJson(ctx.blocking->load())}});
}

void SendReady(const http::Responder& responder, const Status& ping) {
  if (!ping.ok()) return SendError(responder, Unavailable("store not reachable: " + ping.message()));
  SendJson(responder, 200, json::object{{"status", "ready"}});
}

void Readyz(ApiContext& ctx, const http::Responder& responder) {
  const Millis now = ctx.clock.now();
  StoreHealth::Snapshot s = ctx.store_health->snapshot();
  if (s.pending_since && now - *s.pending_since >= kPingStalled) {
    return SendError(responder, Unavailable("store not answering: a ping has waited " +
                                            std::to_string(now - *s.pending_since) + " ms"));
  }
  if (s.checked && !s.pending_since && now - s.checked_at < kHealthRefresh) {
    return SendReady(responder, s.ok ? Status::Ok() : Unavailable(s.error));
  }
  const bool asked = ctx.store_health->check(*ctx.blocking, [responder](const Status& ping) {
    SendReady(responder, ping);
  });
  if (!asked) SendError(responder, PoolBusy());
}

// Label values are operator-chosen names; escape what the text format requires.
std::string Label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

std::string Metrics(ApiContext& ctx) {
  std::string out;
  auto stats = ctx.store.queue_stats();
  Millis now = ctx.clock.now();
  out += "# HELP sluice_jobs Jobs in the store by queue and status.\n# TYPE sluice_jobs gauge\n";
  if (stats.ok()) {
    for (const auto& q : *stats) {
      for (int s = 0; s <= static_cast<int>(JobStatus::kCanceled); ++s) {
        out += "sluice_jobs{queue=\"" + Label(q.queue) + "\",status=\"" +
               JobStatusName(static_cast<JobStatus>(s)) + "\"} " + std::to_string(q.by_status[s]) + "\n";
      }
    }
    out += "# HELP sluice_queue_depth Queued jobs per queue.\n# TYPE sluice_queue_depth gauge\n";
    for (const auto& q : *stats) {
      out += "sluice_queue_depth{queue=\"" + Label(q.queue) + "\"} " +
             std::to_string(q.by_status[static_cast<int>(JobStatus::kQueued)]) + "\n";
    }
    out += "# HELP sluice_queue_oldest_age_seconds Age of the oldest queued job per queue.\n"
           "# TYPE sluice_queue_oldest_age_seconds gauge\n";
    for (const auto& q : *stats) {
      double age = q.oldest_queued_created_at ? (now - *q.oldest_queued_created_at) / 1000.0 : 0.0;
      out += "sluice_queue_oldest_age_seconds{queue=\"" + Label(q.queue) + "\"} " + std::to_string(age) + "\n";
    }
  }
  out += "# HELP sluice_running_jobs Attempts in flight on this node per queue.\n# TYPE sluice_running_jobs gauge\n";
  for (const auto& q : ctx.config.queues) {
    out += "sluice_running_jobs{queue=\"" + Label(q.name) + "\"} " + std::to_string(ctx.scheduler.running(q.name)) + "\n";
  }
  out += "# HELP sluice_circuit_open 1 while a model alias's circuit breaker is open (or half-open).\n"
         "# TYPE sluice_circuit_open gauge\n";
  for (const auto& a : ctx.gateway.alias_stats()) {
    if (a.circuit.empty()) continue;
    out += "sluice_circuit_open{alias=\"" + Label(a.alias) + "\"} " + (a.circuit == "closed" ? "0" : "1") + "\n";
  }
  out += "# HELP sluice_provider_calls_total Model calls by provider and outcome.\n"
         "# TYPE sluice_provider_calls_total counter\n";
  for (const auto& [key, n] : ctx.gateway.call_counts()) {
    out += "sluice_provider_calls_total{provider=\"" + Label(key.first) + "\",outcome=\"" + Label(key.second) +
           "\"} " + std::to_string(n) + "\n";
  }
  const BlockingPool::Load load = ctx.blocking->load();
  out += "# HELP sluice_api_blocking_queued Requests waiting for a thread of the API's blocking pool.\n"
         "# TYPE sluice_api_blocking_queued gauge\n"
         "sluice_api_blocking_queued " + std::to_string(load.queued) + "\n";
  out += "# HELP sluice_api_blocking_running Store calls of requests running on the API's blocking pool.\n"
         "# TYPE sluice_api_blocking_running gauge\n"
         "sluice_api_blocking_running " + std::to_string(load.running) + "\n";
  out += "# HELP sluice_api_blocking_refused_total Requests answered 503 because the blocking pool was full.\n"
         "# TYPE sluice_api_blocking_refused_total counter\n"
         "sluice_api_blocking_refused_total " + std::to_string(load.refused) + "\n";
  return out;
}

}  // namespace

void AddOperationsRoutes(ApiContext& ctx, Router& router) {
  router.add(
      "GET", "/healthz",
      [&ctx](http::Request&&, http::Responder responder, const RouteContext&) { Healthz(ctx, responder); },
      Access::kPublic);
  router.add(
      "GET", "/readyz",
      [&ctx](http::Request&&, http::Responder responder, const RouteContext&) { Readyz(ctx, responder); },
      Access::kPublic);
  router.add(
      "GET", "/metrics",
      [&ctx](http::Request&&, http::Responder responder, const RouteContext&) {
        RunOffLoop(ctx, responder, [&ctx, responder] {
          http::Response r;
          r.content_type = "text/plain; version=0.0.4";
          r.body = Metrics(ctx);
          responder.send(std::move(r));
        });
      },
      Access::kMetrics);
}

// GET /v1/stats (basic): per model alias and per queue, since this process started. The
// dashboard issue extends it with windows and percentiles.
static json::object Stats(ApiContext& ctx) {
  json::array aliases;
  for (const auto& a : ctx.gateway.alias_stats()) {
    aliases.push_back(json::object{{"model_alias", a.alias},
                                   {"provider", a.provider},
                                   {"calls", a.calls},
                                   {"failures", a.failures},
                                   {"cost_usd", a.cost_usd},
                                   {"circuit", a.circuit.empty() ? json::value(nullptr) : json::value(a.circuit)}});
  }
  json::array queues;
  auto counts = ctx.store.queue_stats();
  auto spend = ctx.worker.spend_by_queue();
  for (const auto& q : ctx.config.queues) {
    json::object by_status;
    if (counts.ok()) {
      for (const auto& s : *counts) {
        if (s.queue != q.name) continue;
        for (int i = 0; i <= static_cast<int>(JobStatus::kCanceled); ++i) {
          by_status[JobStatusName(static_cast<JobStatus>(i))] = s.by_status[i];
        }
      }
    }
    const Worker::QueueSpend& sp = spend[q.name];
    queues.push_back(json::object{
        {"queue", q.name},
        {"jobs", std::move(by_status)},
        {"attempts", sp.attempts},
        {"cost_usd", sp.cost_usd},
        {"cost_per_job_usd", sp.settled_jobs ? sp.cost_usd / sp.settled_jobs : 0.0},
        {"running", ctx.scheduler.running(q.name)}});
  }
  return json::object{{"object", "stats"},
                      {"since", "process_start"},
                      {"models", std::move(aliases)},
                      {"queues", std::move(queues)}};
}

// GET /v1/stats for a tenant's key: its own jobs per queue (counts by status, cost), nothing of
// other tenants and nothing of the shared providers.
static Result<json::object> TenantStats(ApiContext& ctx, const std::string& tenant) {
  ASSIGN_OR_RETURN(std::vector<QueueStats> counts, ctx.store.tenant_stats(tenant));
  json::array queues;
  for (const QueueStats& s : counts) {
    json::object by_status;
    std::int64_t settled = 0;
    for (int i = 0; i <= static_cast<int>(JobStatus::kCanceled); ++i) {
      const auto status = static_cast<JobStatus>(i);
      by_status[JobStatusName(status)] = s.by_status[i];
      if (IsSettled(status)) settled += s.by_status[i];
    }
    queues.push_back(json::object{{"queue", s.queue},
                                  {"jobs", std::move(by_status)},
                                  {"cost_usd", s.cost_usd},
                                  {"cost_per_job_usd", settled ? s.cost_usd / settled : 0.0}});
  }
  return json::object{{"object", "stats"},
                      {"tenant", tenant},
                      {"since", "retention"},
                      {"queues", std::move(queues)}};
}

void AddAllRoutes(ApiContext& ctx, Router& router) {
  router.add("GET", "/v1/stats", [&ctx](http::Request&& req, http::Responder responder, const RouteContext& rc) {
    // Windows come with stats from the store (the dashboard's issue); until then a window asked
    // for is refused rather than silently ignored.
    if (req.query_param("window")) {
      return SendError(responder, InvalidArgument("window is not supported yet: /v1/stats counts since this "
                                                  "process started (see \"since\")",
                                                  "window"));
    }
    // The node-wide figures (every tenant's jobs, the providers' calls) are the operator's;
    // a tenant's key sees its own jobs only.
    if (ctx.auth && ctx.auth->required() && !rc.caller.admin) {
      return RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), responder] {
        auto stats = TenantStats(ctx, tenant);
        if (!stats.ok()) return SendError(responder, stats.status());
        SendJson(responder, 200, *stats);
      });
    }
    RunOffLoop(ctx, responder, [&ctx, responder] { SendJson(responder, 200, Stats(ctx)); });
  });
  AddJobRoutes(ctx, router);
  AddBlobRoutes(ctx, router);
  AddModelRoutes(ctx, router);
  AddChatRoutes(ctx, router);
  AddOperationsRoutes(ctx, router);
  AddFileRoutes(ctx, router);
  AddBatchRoutes(ctx, router);
  AddEventRoutes(ctx, router);
  AddReportRoutes(ctx, router);
  AddAuditRoutes(ctx, router);
  if (ctx.auth) AddAdminRoutes(ctx, router);
}

}  // namespace sluice
