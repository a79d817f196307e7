#include "worker/attempt_outcome.h"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "json/json_text.h"
#include "store/audit_records.h"
#include "tasks/schema_validator.h"

namespace sluice {

namespace json = boost::json;

Millis BackoffDelay(int attempt, Millis base, Millis max, double jitter01) {
  double delay = static_cast<double>(base) * std::pow(2.0, std::max(0, attempt - 1));
  delay = std::min(delay, static_cast<double>(max));
  return static_cast<Millis>(delay * (0.5 + std::clamp(jitter01, 0.0, 1.0) / 2));
}

namespace {

// Usage as OpenAI reports it, the details only where the provider gave them.
json::object UsageRecord(const CallResult& r) {
  json::object usage{{"prompt_tokens", r.prompt_tokens},
                     {"completion_tokens", r.completion_tokens},
                     {"total_tokens", r.prompt_tokens + r.completion_tokens}};
  if (r.cached_tokens > 0) usage["cached_tokens"] = r.cached_tokens;
  if (r.reasoning_tokens > 0) usage["reasoning_tokens"] = r.reasoning_tokens;
  return usage;
}

json::object AttemptRecord(const Job& job, const PreparedCall& call, const CallResult& r,
                           const std::string& outcome, const std::string& error) {
  json::object a;
  a["n"] = job.attempt;
  a["provider"] = r.provider;
  a["model"] = r.model_id;
  a["model_alias"] = r.alias;
  a["started_at"] = FormatRfc3339(r.started_at);
  a["ms"] = r.ms;
  a["outcome"] = outcome;
  if (r.http_status) a["http_status"] = r.http_status;
  a["usage"] = UsageRecord(r);
  a["cost_usd"] = r.cost_usd;
  a["params"] = call.params_sent_to(r.alias);  // each alias of a walk may add its own defaults
  if (r.unpriced()) a["unpriced"] = true;
  if (!error.empty()) a["error"] = error;
  return a;
}

json::object ResultRecord(const Job& job, const PreparedCall& call, const CallResult& r,
                          double walk_cost, const json::value& output, Millis now) {
  json::object out;
  out["job_id"] = job.id;
  // The provider answered about placeholders: the stored result holds the real values.
  json::value shown = output;
  if (call.pii) call.pii->unmask(shown);
  out["output"] = std::move(shown);
  out["text"] = call.pii ? call.pii->unmask(r.text) : r.text;
  out["model"] = r.model_id;
  out["model_alias"] = r.alias;
  out["provider"] = r.provider;
  if (job.spec.type != kChatType) {
    out["prompt_version"] = job.spec.prompt_version;
    out["response_schema"] = call.schema ? call.schema->name : "";
  }
  // What the provider that answered was sent (API.md: the effective params), not only the
  // job's overrides: version params and the alias's defaults change the answer as much.
  out["params"] = call.params_sent_to(r.alias);
  out["usage"] = UsageRecord(r);
  out["cost_usd"] = job.cost_usd + walk_cost;
  Millis started = job.started_at.value_or(r.started_at);
  out["queue_ms"] = std::max<Millis>(0, started - job.created_at);
  out["processing_ms"] = std::max<Millis>(0, now - started);
  out["finish_reason"] = r.finish_reason;
  // The built-in local model answered for an alias that was meant to reach a real one: a
  // marked, lower-quality answer (every provider of the chain was down or skipped).
  out["degraded"] = r.provider == "local" && call.alias != kLocalAlias;
  // What was masked, never the values.
  if (call.pii) out["pii"] = json::object{{"masked", call.pii->counts_json()}};
  return out;
}

// The answer checked against the schema: the parsed output, or why it is not acceptable.
Result<json::value> CheckAnswer(const PreparedCall& call, const CallResult& r) {
  if (!call.schema) {
    if (r.text.empty()) return InvalidArgument("the model answered with empty text");
    boost::system::error_code ec;
    json::value parsed = json::parse(r.text, ec);
    return ec ? json::value(nullptr) : parsed;
  }
  ASSIGN_OR_RETURN(json::value parsed, ParseModelJson(r.text));
  RETURN_IF_ERROR(call.schema->validator.Validate(parsed));
  return parsed;
}

bool BelowReviewThreshold(const ReviewRule* rule, const json::value& output, std::string& why) {
  if (!rule || !output.is_object()) return false;
  const json::value* v = output.as_object().if_contains(rule->field);
  if (!v || !(v->is_number())) return false;
  double x = v->to_number<double>();
  if (x >= rule->below) return false;
  why = rule->field + " " + NumberText(x) + " is below " + NumberText(rule->below);
  return true;
}

// All of a walk's call records as one JSON array (the store keeps one row per job attempt).
std::string AttemptRecords(const Job& job, const PreparedCall& call, const GatewayResult& g,
                           const std::string& final_outcome, const std::string& final_error) {
  json::array records;
  for (std::size_t i = 0; i < g.calls.size(); ++i) {
    const CallResult& c = g.calls[i];
    bool last = i + 1 == g.calls.size();
    json::object a =
        AttemptRecord(job, call, c, last ? final_outcome : c.code,
                      last ? final_error : (c.outcome == CallOutcome::kOk ? "" : c.message));
    if (!last) a["fallback"] = true;  // the walk went on to the next alias after this call
    records.push_back(std::move(a));
  }
  if (!g.skipped.empty()) {
    json::array skipped;
    for (const auto& [alias, why] : g.skipped) skipped.push_back(json::object{{"model_alias", alias}, {"reason", why}});
    records.back().as_object()["skipped"] = std::move(skipped);
  }
  return JsonText(records);
}

}  // namespace

std::vector<CallCharge> CallCharges(const CallCharge& whose, const GatewayResult& g) {
  std::vector<CallCharge> charges;
  for (const CallResult& c : g.calls) {
    if (!c.reached_provider()) continue;
    CallCharge charge = whose;
    charge.provider = c.provider;
    charge.model_alias = c.alias;
    charge.model_id = c.model_id;
    charge.at = c.started_at;
    charge.prompt_tokens = c.prompt_tokens;
    charge.completion_tokens = c.completion_tokens;
    charge.cached_tokens = c.cached_tokens;
    charge.reasoning_tokens = c.reasoning_tokens;
    charge.cost_nano_usd = NanoUsd(c.cost_usd);
    charge.unpriced = c.unpriced();
    charge.outcome = c.code.empty() ? "ok" : c.code;
    charges.push_back(std::move(charge));
  }
  return charges;
}

std::vector<CallCharge> CallCharges(const Job& job, const PreparedCall& call,
                                    const GatewayResult& g) {
  CallCharge whose{.tenant = job.spec.tenant,
                   .job_id = job.id,
                   .attempt = job.attempt,
                   .task_type = job.spec.type,
                   .actor = kAuditActorSystem,
                   .prompt_version = job.spec.prompt_version};
  if (call.pii) whose.pii_masked_json = JsonText(call.pii->counts_json());
  return CallCharges(whose, g);
}

AttemptFinish DecideAttempt(const Job& job, const PreparedCall& call, const GatewayResult& g,
                            Millis now, const WorkerConfig& worker, double jitter01) {
  const CallResult& r = g.final();
  AttemptFinish f;
  f.job_id = job.id;
  f.attempt = job.attempt;
  f.lease_owner = job.lease_owner;
  f.now = now;
  f.cost_usd = g.cost_usd();
  f.charges = CallCharges(job, call, g);
  const bool attempts_left = job.attempt < job.spec.max_attempts;
  const double spent = job.cost_usd + f.cost_usd;
  const bool over_budget = job.spec.cost_limit_usd && spent >= *job.spec.cost_limit_usd;

  auto finish_with = [&](AttemptOutcome outcome, std::string code, std::string message,
                         const std::string& attempt_outcome) {
    f.outcome = outcome;
    f.error = {std::move(code), std::move(message)};
    f.attempt_json = AttemptRecords(job, call, g, attempt_outcome, f.error.message);
    return f;
  };
  // A failed attempt that may be tried again: retry, or the end the rules say.
  auto retry_or = [&](AttemptOutcome final_outcome, const std::string& code,
                      const std::string& message) {
    if (job.spec.deadline && now >= *job.spec.deadline) {
      return finish_with(AttemptOutcome::kExpired, "deadline_exceeded",
                         "the deadline passed during attempt " + std::to_string(job.attempt) +
                             " (" + code + ": " + message + ")",
                         code);
    }
    if (over_budget) {
      return finish_with(AttemptOutcome::kFailed, "cost_limit_exceeded",
                         "spent $" + NumberText(spent) + " of the job's cost limit; last error " +
                             code + ": " + message,
                         code);
    }
    if (!attempts_left) {
      if (final_outcome == AttemptOutcome::kReview) {
        // Keep the rejected answer so the reviewer sees what the model said.
        f.result_json = JsonText(ResultRecord(job, call, r, g.cost_usd(), nullptr, now));
      }
      return finish_with(final_outcome, code, message, code);
    }
    Millis delay = BackoffDelay(job.attempt, worker.retry_base, worker.retry_max, jitter01);
    delay = std::max(delay, r.retry_after_ms);
    if (job.spec.deadline && now + delay >= *job.spec.deadline) {
      return finish_with(AttemptOutcome::kExpired, "deadline_exceeded",
                         "no time left before the deadline for another attempt (" + code + ": " +
                             message + ")",
                         code);
    }
    finish_with(AttemptOutcome::kRetry, code, message, code);
    f.retry_at = now + delay;
    return f;
  };

  switch (r.outcome) {
    case CallOutcome::kFatal:
      return finish_with(AttemptOutcome::kFailed, r.code, r.message, r.code);
    case CallOutcome::kRetryable:
      return retry_or(AttemptOutcome::kFailed, r.code, r.message);
    case CallOutcome::kCanceled:
      // The call was cut at the deadline (a canceled job or a stopping node never gets here).
      return retry_or(AttemptOutcome::kFailed, "canceled", r.message);
    case CallOutcome::kOk:
      break;
  }
  auto output = CheckAnswer(call, r);
  if (!output.ok()) {
    // The model answered, but not acceptably. After the last try a person decides.
    AttemptOutcome final_outcome = call.schema ? AttemptOutcome::kReview : AttemptOutcome::kFailed;
    return retry_or(final_outcome, "schema_invalid", output.status().message());
  }
  f.result_json = JsonText(ResultRecord(job, call, r, g.cost_usd(), *output, now));
  std::string why;
  if (BelowReviewThreshold(call.review, *output, why)) {
    return finish_with(AttemptOutcome::kReview, "review_rule", why, "ok");
  }
  f.outcome = AttemptOutcome::kDone;
  f.attempt_json = AttemptRecords(job, call, g, "ok", "");
  return f;
}

AttemptFinish FailUnrunnable(const Job& job, const Status& why, Millis now) {
  AttemptFinish f;
  f.job_id = job.id;
  f.attempt = job.attempt;
  f.lease_owner = job.lease_owner;
  f.now = now;
  f.outcome = AttemptOutcome::kFailed;
  f.error = {"invalid_job", why.message()};
  json::object a{{"n", job.attempt}, {"started_at", FormatRfc3339(now)}, {"ms", 0},
                 {"outcome", "invalid_job"}, {"cost_usd", 0.0}, {"error", why.message()}};
  f.attempt_json = JsonText(a);
  return f;
}

}  // namespace sluice
