#include "api/job_view.h"

#include <boost/json.hpp>

#include "api/job_json.h"

namespace sluice {

namespace json = boost::json;

Result<json::value> ResultView(Store& store, const std::string& tenant, const std::string& id) {
  ASSIGN_OR_RETURN(std::string text, store.get_result(tenant, id));
  boost::system::error_code ec;
  json::value result = json::parse(text, ec);
  if (ec || !result.is_object()) return Internal("stored result of " + id + " is not JSON");
  json::array attempts;
  if (auto list = store.get_attempts(tenant, id); list.ok()) {
    for (const auto& a : *list) {
      // One row per job attempt; a row holds every provider call of its fallback walk.
      json::value v = json::parse(a, ec);
      if (ec) continue;
      if (v.is_array()) {
        for (auto& call : v.as_array()) attempts.push_back(std::move(call));
      } else {
        attempts.push_back(std::move(v));
      }
    }
  }
  result.as_object()["attempts"] = std::move(attempts);
  return result;
}

json::object JobView(Store& store, const Job& job, Millis now, bool queue_full) {
  json::object o = JobToJson(job, now, queue_full);
  if (job.status == JobStatus::kDone || job.status == JobStatus::kReview) {
    auto result = ResultView(store, job.spec.tenant, job.id);
    o["result"] = result.ok() ? *result : json::value(nullptr);
  } else {
    o["result"] = nullptr;
  }
  return o;
}

}  // namespace sluice
