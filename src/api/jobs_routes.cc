// /v1/jobs: submit (single, bulk, adaptive ?wait), get (long-poll), list, cancel, review, result,
// events.
//
// Threads: a handler parses and validates on the event loop; every store read or write runs
// off it (api/off_loop.h), and submits go through the group commit, whose callback runs on its
// own thread. So a stalled store delays only the requests that need it.
#include <algorithm>
#include <set>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "api/job_json.h"
#include "api/job_request.h"
#include "api/job_view.h"
#include "api/mask_pii_request.h"
#include "api/job_waiter.h"
#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

JobRequestContext RequestContext(ApiContext& ctx, const std::string& tenant, bool mask_pii) {
  return JobRequestContext{ctx.config, ctx.tasks, ctx.blobs, ctx.gateway, ctx.clock.now(), tenant, mask_pii};
}

// The tenant's live-job and budget quotas for `n` new jobs (auth/tenant_quotas.h).
Status AdmitJobs(ApiContext& ctx, const auth::Caller& caller, std::int64_t n) {
  return ctx.quotas ? ctx.quotas->admit_jobs(caller, n) : Status::Ok();
}

json::object JobJson(ApiContext& ctx, const Job& job) {
  return JobToJson(job, ctx.clock.now(),
                   job.status == JobStatus::kQueued && ctx.scheduler.queue_full(job.spec.queue));
}

// The result record with every attempt, oldest first; NotFound until there is a result.
Result<json::value> ResultJson(ApiContext& ctx, const std::string& tenant, const std::string& id) {
  return ResultView(ctx.store, tenant, id);
}

// The job object with its result embedded when it has one (single-job answers, not lists).
json::object JobWithResult(ApiContext& ctx, const Job& job) {
  return JobView(ctx.store, job, ctx.clock.now(),
                 job.status == JobStatus::kQueued && ctx.scheduler.queue_full(job.spec.queue));
}

void LogSubmitted(const SubmitOutcome& out) {
  if (out.deduplicated) return;  // no state changed
  spdlog::debug("job {} queued: type {}, queue {}, tenant {}", out.job.id, out.job.spec.type,
                out.job.spec.queue, out.job.spec.tenant);
}

void AnswerSubmitted(ApiContext& ctx, const http::Responder& responder, const SubmitOutcome& out,
                     Millis wait) {
  auto send = [&ctx, responder, deduplicated = out.deduplicated](const Job& job) {
    bool finished = IsSettled(job.status);
    json::object body = finished ? JobWithResult(ctx, job) : JobJson(ctx, job);
    body["deduplicated"] = deduplicated;
    int status = deduplicated || finished ? 200 : 202;
    SendJson(responder, status, body, {{"Location", "/v1/jobs/" + job.id}});
  };
  if (wait <= 0 || IsSettled(out.job.status)) return send(out.job);
  WaitForJob(ctx, out.job.spec.tenant, out.job.id, wait, [send, responder](Result<Job> job) {
    if (!job.ok()) return SendError(responder, job.status());
    send(*job);
  });
}

// True when validating the job body asks the blob store whether its input exists (a store
// call: in shared mode, a PostgreSQL query).
bool ReferencesBlob(const json::value& body) {
  const json::value* input = body.is_object() ? body.as_object().if_contains("input") : nullptr;
  return input && input->is_object() && input->as_object().contains("blob");
}

void SubmitParsed(ApiContext& ctx, const auth::Caller& caller, bool mask_pii, const json::value& body,
                  Millis wait, const http::Responder& responder);

void Submit(ApiContext& ctx, http::Request&& req, http::Responder responder, const RouteContext& rc) {
  auto wait = ParseWaitParam(req, ctx.config.server.max_wait);
  if (!wait.ok()) return SendError(responder, wait.status());
  auto body = ParseJsonBody(req);
  if (!body.ok()) return SendError(responder, body.status());
  auto mask = MaskPiiAsked(req, rc.caller);
  if (!mask.ok()) return SendError(responder, mask.status());
  // Text inputs, the hot path, are validated right here; a blob's existence is a store read.
  if (!ReferencesBlob(*body)) return SubmitParsed(ctx, rc.caller, *mask, *body, *wait, responder);
  RunOffLoop(ctx, responder,
             [&ctx, caller = rc.caller, mask = *mask, body = std::move(body).value(), wait = *wait,
              responder] { SubmitParsed(ctx, caller, mask, body, wait, responder); });
}

void SubmitParsed(ApiContext& ctx, const auth::Caller& caller, bool mask_pii, const json::value& body,
                  Millis wait, const http::Responder& responder) {
  auto job = ParseJobRequest(body, RequestContext(ctx, caller.tenant, mask_pii));
  if (!job.ok()) return SendError(responder, job.status());
  if (Status quota = AdmitJobs(ctx, caller, 1); !quota.ok()) return SendError(responder, quota);
  std::vector<Job> batch;
  batch.push_back(std::move(job).value());
  bool queued = ctx.submitter.submit(std::move(batch), [&ctx, responder, wait](
                                                          Result<std::vector<SubmitOutcome>> outcomes) {
    if (!outcomes.ok()) return SendError(responder, outcomes.status());
    const SubmitOutcome& out = outcomes->front();
    LogSubmitted(out);
    if (!out.deduplicated) ctx.scheduler.wake(out.job.spec.queue);
    AnswerSubmitted(ctx, responder, out, wait);
  });
  if (!queued) SendError(responder, Unavailable("the server is stopping"));
}

void SubmitBulkItems(ApiContext& ctx, const auth::Caller& caller, bool mask_pii, const json::array& items,
                     const http::Responder& responder);

void SubmitBulk(ApiContext& ctx, http::Request&& req, http::Responder responder, const RouteContext& rc) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return SendError(responder, body.status());
  const json::value* jobs = body->is_object() ? body->as_object().if_contains("jobs") : nullptr;
  if (!jobs || !jobs->is_array()) {
    return SendError(responder, InvalidArgument("the body must be {\"jobs\": [...]}", "jobs"));
  }
  const json::array& items = jobs->as_array();
  if (items.size() > static_cast<std::size_t>(ctx.config.server.bulk_limit)) {
    return SendError(responder, InvalidArgument("at most " + std::to_string(ctx.config.server.bulk_limit) +
                                                    " jobs per bulk request",
                                                "jobs"));
  }
  auto mask = MaskPiiAsked(req, rc.caller);
  if (!mask.ok()) return SendError(responder, mask.status());
  if (std::none_of(items.begin(), items.end(), ReferencesBlob)) {
    return SubmitBulkItems(ctx, rc.caller, *mask, items, responder);
  }
  RunOffLoop(ctx, responder, [&ctx, caller = rc.caller, mask = *mask, body = std::move(body).value(), responder] {
    SubmitBulkItems(ctx, caller, mask, body.as_object().at("jobs").as_array(), responder);
  });
}

void SubmitBulkItems(ApiContext& ctx, const auth::Caller& caller, bool mask_pii, const json::array& items,
                     const http::Responder& responder) {
  // Each item's answer slot: an error now, or an index into the valid jobs.
  auto answers = std::make_shared<json::array>(items.size());
  auto valid_index = std::make_shared<std::vector<std::size_t>>();
  std::vector<Job> valid;
  JobRequestContext rctx = RequestContext(ctx, caller.tenant, mask_pii);
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto job = ParseJobRequest(items[i], rctx);
    if (!job.ok()) {
      json::object err{{"code", job.status().error_code().empty() ? StatusCodeName(job.status().code())
                                                                   : job.status().error_code()},
                       {"message", job.status().message()}};
      if (!job.status().field().empty()) err["field"] = job.status().field();
      (*answers)[i] = json::object{{"error", std::move(err)}};
      continue;
    }
    valid_index->push_back(i);
    valid.push_back(std::move(job).value());
  }
  auto send = [answers, responder] { SendJson(responder, 200, json::object{{"jobs", std::move(*answers)}}); };
  if (valid.empty()) return send();
  // All or nothing: a bulk request over the tenant's quota is refused whole, with its 429.
  if (Status quota = AdmitJobs(ctx, caller, static_cast<std::int64_t>(valid.size())); !quota.ok()) {
    return SendError(responder, quota);
  }
  bool queued = ctx.submitter.submit(std::move(valid), [&ctx, answers, valid_index, send, responder](
                                              Result<std::vector<SubmitOutcome>> outcomes) {
    if (!outcomes.ok()) return SendError(responder, outcomes.status());
    std::set<std::string> queues;
    for (std::size_t k = 0; k < outcomes->size(); ++k) {
      const SubmitOutcome& out = (*outcomes)[k];
      LogSubmitted(out);
      (*answers)[(*valid_index)[k]] = json::object{{"id", out.job.id},
                                                   {"status", JobStatusName(out.job.status)},
                                                   {"deduplicated", out.deduplicated}};
      if (!out.deduplicated) queues.insert(out.job.spec.queue);
    }
    for (const auto& q : queues) ctx.scheduler.wake(q);
    send();
  });
  if (!queued) SendError(responder, Unavailable("the server is stopping"));
}

void Get(ApiContext& ctx, http::Request&& req, http::Responder responder, const RouteContext& rc) {
  auto wait = ParseWaitParam(req, ctx.config.server.max_wait);
  if (!wait.ok()) return SendError(responder, wait.status());
  const std::string& id = rc.params.at("id");
  auto answer = [&ctx, responder](Result<Job> job) {
    if (!job.ok()) return SendError(responder, job.status());
    SendJson(responder, 200, JobWithResult(ctx, *job));
  };
  if (*wait > 0) return WaitForJob(ctx, rc.tenant(), id, *wait, answer);
  RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id, answer] {
    answer(ctx.store.get_job(tenant, id));
  });
}

void List(ApiContext& ctx, http::Request&& req, http::Responder responder, const RouteContext& rc) {
  JobFilter f;
  f.tenant = rc.tenant();
  if (auto s = req.query_param("status"); s && !s->empty()) {
    f.status = ParseJobStatus(*s);
    if (!f.status) return SendError(responder, InvalidArgument("unknown status " + *s, "status"));
  }
  if (auto t = req.query_param("type")) f.type = *t;
  if (auto q = req.query_param("queue")) f.queue = *q;
  if (auto o = req.query_param("object_id")) f.object_id = *o;
  if (auto a = req.query_param("after")) f.after = *a;
  if (auto l = req.query_param("limit"); l && !l->empty()) {
    char* end = nullptr;
    long n = std::strtol(l->c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000) {
      return SendError(responder, InvalidArgument("limit must be an integer from 1 to 1000", "limit"));
    }
    f.limit = static_cast<int>(n);
  }
  RunOffLoop(ctx, responder, [&ctx, f = std::move(f), responder] {
    auto page = ctx.store.list_jobs(f);
    if (!page.ok()) return SendError(responder, page.status());
    json::array data;
    for (const Job& job : page->jobs) data.push_back(JobJson(ctx, job));
    SendJson(responder, 200,
             json::object{{"object", "list"},
                          {"data", std::move(data)},
                          {"next", page->next.empty() ? json::value(nullptr) : json::value(page->next)}});
  });
}

void Cancel(ApiContext& ctx, http::Request&&, http::Responder responder, const RouteContext& rc) {
  RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
    auto job = ctx.store.cancel_job(tenant, id, ctx.clock.now());
    if (!job.ok()) return SendError(responder, job.status());
    ctx.worker.cancel(id);
    ctx.watch.notify(id);
    spdlog::debug("job {} canceled (tenant {})", id, tenant);
    SendJson(responder, 200, JobJson(ctx, *job));
  });
}

// A review body's string member: absent is "" when optional, else InvalidArgument naming it.
Result<std::string> ReviewString(const json::object& body, const char* field, bool required) {
  const json::value* v = body.if_contains(field);
  if (!v || v->is_null()) {
    if (!required) return std::string();
    return InvalidArgument(std::string("\"") + field + "\" is required", field);
  }
  if (!v->is_string()) return InvalidArgument(std::string("\"") + field + "\" must be a string", field);
  return std::string(v->as_string());
}

// The result record of an approval: the reviewer's output stands in for a model's answer. It
// keeps the job's prompt version, schema, params and cost, so it reads like any other result.
std::string HumanResultRecord(const Job& job, const json::value& output, Millis now) {
  json::object out;
  out["job_id"] = job.id;
  out["output"] = output;
  out["text"] = output.is_string() ? std::string(output.as_string()) : JsonText(output);
  out["model"] = nullptr;
  out["model_alias"] = nullptr;
  out["provider"] = "human";
  out["reviewed"] = true;
  if (job.spec.type != kChatType) {
    out["prompt_version"] = job.spec.prompt_version;
    out["response_schema"] = job.spec.response_schema;
  }
  boost::system::error_code ec;
  json::value params = json::parse(job.spec.params_json, ec);
  out["params"] = ec ? json::value(json::object()) : params;
  out["usage"] = {{"prompt_tokens", 0}, {"completion_tokens", 0}, {"total_tokens", 0}};
  out["cost_usd"] = job.cost_usd;
  Millis started = job.started_at.value_or(job.created_at);
  out["queue_ms"] = std::max<Millis>(0, started - job.created_at);
  out["processing_ms"] = std::max<Millis>(0, now - started);
  out["finish_reason"] = "review";
  out["degraded"] = false;
  return JsonText(out);
}

// Reads the decision of a review body for `job`, checking what it names: the output against
// the job's response schema (approve), the model alias against the config (retry).
Result<ReviewAction> ParseReview(ApiContext& ctx, const json::value& body, const Job& job, Millis now) {
  if (!body.is_object()) return InvalidArgument("the body must be a JSON object", "action");
  const json::object& o = body.as_object();
  ASSIGN_OR_RETURN(std::string action, ReviewString(o, "action", true));
  ReviewAction review{.tenant = job.spec.tenant, .id = job.id, .now = now};
  if (action == "approve") {
    review.kind = ReviewAction::kApprove;
    const json::value* output = o.if_contains("output");
    if (!output) return InvalidArgument("\"output\" is required to approve", "output");
    if (!job.spec.response_schema.empty()) {
      const ResponseSchema* schema = ctx.tasks.find_schema(job.spec.response_schema);
      if (!schema) {
        return FailedPrecondition("the response schema " + job.spec.response_schema + " is gone");
      }
      if (Status valid = schema->validator.Validate(*output); !valid.ok()) {
        return InvalidArgument("output does not match " + job.spec.response_schema + ": " + valid.message(),
                               "output");
      }
    }
    review.result_json = HumanResultRecord(job, *output, now);
  } else if (action == "reject") {
    review.kind = ReviewAction::kReject;
    ASSIGN_OR_RETURN(review.reason, ReviewString(o, "reason", false));
    if (review.reason.empty()) review.reason = "rejected by a reviewer";
  } else if (action == "retry") {
    review.kind = ReviewAction::kRetry;
    ASSIGN_OR_RETURN(review.model, ReviewString(o, "model", false));
    if (!review.model.empty() && !ctx.gateway.has_alias(review.model)) {
      return InvalidArgument("unknown model " + review.model, "model");
    }
  } else {
    return InvalidArgument("action must be approve, reject or retry", "action");
  }
  return review;
}

void ReviewParsed(ApiContext& ctx, const json::value& body, const std::string& tenant,
                  const std::string& id, const std::string& actor,
                  const http::Responder& responder) {
  auto job = ctx.store.get_job(tenant, id);
  if (!job.ok()) return SendError(responder, job.status());
  // Checked here too (the store guards it again) so that a late decision is told it is late
  // rather than that its output does not fit.
  if (job->status != JobStatus::kReview) {
    return SendError(responder, FailedPrecondition("job " + job->id + " is " + JobStatusName(job->status) +
                                                   ", not in review"));
  }
  auto review = ParseReview(ctx, body, *job, ctx.clock.now());
  if (!review.ok()) return SendError(responder, review.status());
  review->actor = actor;
  auto reviewed = ctx.store.review_job(*review);
  if (!reviewed.ok()) return SendError(responder, reviewed.status());
  spdlog::debug("job {} {} by review (tenant {})", reviewed->id, JobStatusName(reviewed->status),
                tenant);
  if (reviewed->status == JobStatus::kQueued) ctx.scheduler.wake(reviewed->spec.queue);
  ctx.watch.notify(reviewed->id);
  SendJson(responder, 200, JobWithResult(ctx, *reviewed));
}

void Review(ApiContext& ctx, http::Request&& req, http::Responder responder, const RouteContext& rc) {
  auto body = ParseJsonBody(req);
  if (!body.ok()) return SendError(responder, body.status());
  RunOffLoop(ctx, responder, [&ctx, body = std::move(body).value(), tenant = rc.tenant(),
                              id = rc.params.at("id"), actor = auth::AuditActorOf(rc.caller),
                              responder] {
    ReviewParsed(ctx, body, tenant, id, actor, responder);
  });
}

void GetResult(ApiContext& ctx, http::Request&&, http::Responder responder, const RouteContext& rc) {
  RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
    auto result = ResultJson(ctx, tenant, id);
    if (!result.ok()) {
      if (result.status().code() == StatusCode::kNotFound && ctx.store.get_job(tenant, id).ok()) {
        return SendError(responder, Status(StatusCode::kNotFound, "job " + id + " has no result yet")
                                        .with_error_code("result_not_ready"));
      }
      return SendError(responder, result.status());
    }
    SendJson(responder, 200, *result);
  });
}

void SendEvents(ApiContext& ctx, const std::string& tenant, const std::string& id,
                const http::Responder& responder) {
  auto events = ctx.store.job_events(tenant, id);
  if (!events.ok()) return SendError(responder, events.status());
  json::array data;
  for (const JobEvent& e : *events) {
    boost::system::error_code ec;
    json::value details = json::parse(e.data_json, ec);
    data.push_back(json::object{{"seq", e.seq},
                                {"at", FormatRfc3339(e.at)},
                                {"type", e.type},
                                {"data", ec ? json::value(json::object()) : details}});
  }
  SendJson(responder, 200, json::object{{"object", "list"}, {"data", std::move(data)}});
}

void Events(ApiContext& ctx, http::Request&&, http::Responder responder, const RouteContext& rc) {
  RunOffLoop(ctx, responder, [&ctx, tenant = rc.tenant(), id = rc.params.at("id"), responder] {
    SendEvents(ctx, tenant, id, responder);
  });
}

}  // namespace

void AddJobRoutes(ApiContext& ctx, Router& router) {
  auto with_ctx = [&ctx](auto fn) {
    return [&ctx, fn](http::Request&& r, http::Responder s, const RouteContext& rc) {
      fn(ctx, std::move(r), std::move(s), rc);
    };
  };
  router.add("POST", "/v1/jobs", with_ctx(Submit));
  router.add("GET", "/v1/jobs", with_ctx(List));
  router.add("POST", "/v1/jobs/bulk", with_ctx(SubmitBulk));
  router.add("GET", "/v1/jobs/{id}", with_ctx(Get));
  router.add("POST", "/v1/jobs/{id}/cancel", with_ctx(Cancel));
  router.add("POST", "/v1/jobs/{id}/review", with_ctx(Review));
  router.add("GET", "/v1/jobs/{id}/result", with_ctx(GetResult));
  router.add("GET", "/v1/jobs/{id}/events", with_ctx(Events));
}

}  // namespace sluice
