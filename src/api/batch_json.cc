#include "api/batch_json.h"

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

std::int64_t Seconds(Millis ms) { return ms / 1000; }

json::value OptSeconds(const std::optional<Millis>& ms) {
  return ms ? json::value(Seconds(*ms)) : json::value(nullptr);
}

}  // namespace

json::object FileToJson(const StoredFile& file) {
  return json::object{{"id", file.id},
                      {"object", "file"},
                      {"bytes", file.bytes},
                      {"created_at", Seconds(file.created_at)},
                      {"filename", file.filename},
                      {"purpose", file.purpose},
                      {"status", "processed"},
                      {"status_details", nullptr}};
}

json::object BatchToJson(const Batch& b) {
  json::object o;
  o["id"] = b.id;
  o["object"] = "batch";
  o["endpoint"] = b.endpoint;
  json::value errors = nullptr;
  if (!b.errors_json.empty()) {
    boost::system::error_code ec;
    errors = json::parse(b.errors_json, ec);
    if (ec) errors = nullptr;
  }
  o["errors"] = std::move(errors);
  o["input_file_id"] = b.input_file_id;
  o["completion_window"] = b.completion_window;
  o["status"] = BatchStatusName(b.status);
  // The files are written while finalizing and readable once the batch is final: before that
  // their ids would name files that do not exist yet.
  const bool final = IsFinal(b.status);
  o["output_file_id"] = final && !b.output_file_id.empty() ? json::value(b.output_file_id) : nullptr;
  o["error_file_id"] = final && !b.error_file_id.empty() ? json::value(b.error_file_id) : nullptr;
  o["created_at"] = Seconds(b.created_at);
  o["in_progress_at"] = OptSeconds(b.in_progress_at);
  o["expires_at"] = Seconds(b.expires_at);
  o["finalizing_at"] = OptSeconds(b.finalizing_at);
  o["completed_at"] = OptSeconds(b.completed_at);
  o["failed_at"] = OptSeconds(b.failed_at);
  o["expired_at"] = OptSeconds(b.expired_at);
  o["cancelling_at"] = OptSeconds(b.cancelling_at);
  o["cancelled_at"] = OptSeconds(b.cancelled_at);
  o["request_counts"] = json::object{{"total", b.counts.total},
                                     {"completed", b.counts.completed},
                                     {"failed", b.counts.failed}};
  boost::system::error_code ec;
  json::value metadata = json::parse(b.metadata_json, ec);
  o["metadata"] = ec ? json::value(nullptr) : std::move(metadata);
  // Sluice's extension (API.md "Events"): where the batch's end is told; null when nowhere.
  o["webhook_url"] = b.webhook_url.empty() ? json::value(nullptr) : json::value(b.webhook_url);
  return o;
}

}  // namespace sluice
