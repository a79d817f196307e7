#include "api/job_json.h"

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

json::value TimeOrNull(const std::optional<Millis>& t) {
  return t ? json::value(FormatRfc3339(*t)) : json::value(nullptr);
}

json::value StringOrNull(const std::string& s) { return s.empty() ? json::value(nullptr) : json::value(s); }

json::value ParsedOrEmpty(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return ec ? json::value(json::object()) : v;
}

json::value BlockedReason(const Job& job, Millis now, bool queue_full) {
  if (job.status != JobStatus::kQueued) return nullptr;
  // Held by the store (the tenant's budget): until a claim takes it again.
  if (!job.blocked_reason.empty()) return json::value(job.blocked_reason);
  if (job.next_attempt_at && *job.next_attempt_at > now) return "retry_backoff";
  if (job.spec.run_at > now) return "scheduled";
  if (queue_full) return "queue_full";
  return nullptr;
}

}  // namespace

json::object JobToJson(const Job& job, Millis now, bool queue_full) {
  const JobSpec& s = job.spec;
  json::object o;
  o["id"] = job.id;
  o["object"] = "job";
  o["type"] = s.type;
  o["status"] = JobStatusName(job.status);
  o["queue"] = s.queue;
  o["priority"] = s.priority;
  o["object_id"] = StringOrNull(s.object_id);
  o["source"] = StringOrNull(s.source);
  o["prompt_version"] = StringOrNull(s.prompt_version);
  o["response_schema"] = StringOrNull(s.response_schema);
  o["model"] = StringOrNull(s.model);
  o["fallback"] = s.allow_fallback;
  o["mask_pii"] = s.mask_pii;
  o["dedup_key"] = StringOrNull(s.dedup_key);
  o["attempt"] = job.attempt;
  o["max_attempts"] = s.max_attempts;
  o["created_at"] = FormatRfc3339(job.created_at);
  o["run_at"] = FormatRfc3339(s.run_at);
  o["started_at"] = TimeOrNull(job.started_at);
  o["finished_at"] = TimeOrNull(job.finished_at);
  o["deadline"] = TimeOrNull(s.deadline);
  o["cost_usd"] = job.cost_usd;
  o["cost_limit_usd"] = s.cost_limit_usd ? json::value(*s.cost_limit_usd) : json::value(nullptr);
  o["params"] = ParsedOrEmpty(s.params_json);
  o["metadata"] = ParsedOrEmpty(s.metadata_json);
  o["webhook_url"] = StringOrNull(s.webhook_url);
  o["blocked_reason"] = BlockedReason(job, now, queue_full);
  o["next_attempt_at"] = job.status == JobStatus::kQueued ? TimeOrNull(job.next_attempt_at) : nullptr;
  if (job.error) {
    o["error"] = {{"code", job.error->code}, {"message", job.error->message}};
  } else {
    o["error"] = nullptr;
  }
  return o;
}

}  // namespace sluice
