// `sluice batches create|get|list|cancel`: the /v1/batches routes (API.md "Files and batches",
// OpenAI's Batch API). Text for people, -o json the server's answer:
//   create --input-file-id ID [--endpoint E] [--completion-window 24h] [--metadata JSON]
//                       the batch id alone (`id=$(sluice batches create …)`)
//   get ID, cancel ID   "<id> <status>", the request counts, the output and error file ids
//                       once the batch is final (`sluice files content` reads them)
//   list [--limit N] [--after ID]
//                       one line per batch, newest first: "<id> <status> <endpoint>
//                       <completed>/<total> <created_at>"; when there are more, stderr names
//                       the --after of the next page
// Cancelling keeps the lines that finished (they are in the output file); a batch already
// ended cannot be cancelled: the server's 409, exit 2.
#include <cstdio>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

std::string Str(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string("-");
}

std::int64_t Count(const json::object& batch, const char* key) {
  const json::value* counts = batch.if_contains("request_counts");
  const json::value* v =
      counts && counts->is_object() ? counts->as_object().if_contains(key) : nullptr;
  return v && v->is_int64() ? v->as_int64() : 0;
}

std::string Time(const json::object& o, const char* key) {
  const json::value* v = o.if_contains(key);
  return v && v->is_int64() ? FormatRfc3339(v->as_int64() * 1000) : std::string("-");
}

void PrintBatch(const json::value& v, const ClientFlags& client) {
  if (client.output == "json" || !v.is_object()) {
    std::printf("%s\n", JsonText(v).c_str());
    return;
  }
  const json::object& b = v.as_object();
  std::printf("%s %s\n", Str(b, "id").c_str(), Str(b, "status").c_str());
  std::printf("requests: %lld total, %lld completed, %lld failed\n",
              static_cast<long long>(Count(b, "total")),
              static_cast<long long>(Count(b, "completed")),
              static_cast<long long>(Count(b, "failed")));
  for (const char* file : {"output_file_id", "error_file_id"}) {
    if (const json::value* id = b.if_contains(file); id && id->is_string()) {
      std::printf("%s: %s\n", file, id->as_string().c_str());
    }
  }
  if (const json::value* errors = b.if_contains("errors"); errors && !errors->is_null()) {
    std::printf("errors: %s\n", JsonText(*errors).c_str());
  }
}

std::string BatchPath(const std::string& id) {
  return "/v1/batches/" + client::UrlEscape(id);
}

}  // namespace

int RunBatchesCreate(const BatchesFlags& f) {
  json::object body{{"input_file_id", f.input_file_id},
                    {"endpoint", f.endpoint},
                    {"completion_window", f.completion_window}};
  if (!f.metadata.empty()) {
    auto text = ReadArgOrFile(f.metadata, "--metadata");
    if (!text.ok()) return ReportError(text.status());
    boost::system::error_code ec;
    json::value metadata = json::parse(*text, ec);
    if (ec || !metadata.is_object()) {
      return ReportError(InvalidArgument(
          "--metadata must be a JSON object of strings (or @file.json)", "--metadata"));
    }
    body["metadata"] = std::move(metadata);
  }
  client::ApiClient api(ClientOptionsFor(f.client));
  auto batch = api.post_json("/v1/batches", body);
  if (!batch.ok()) return ReportError(batch.status());
  const json::value* id = batch->is_object() ? batch->as_object().if_contains("id") : nullptr;
  if (f.client.output == "json" || !id || !id->is_string()) {
    std::printf("%s\n", JsonText(*batch).c_str());
  } else {
    std::printf("%s\n", id->as_string().c_str());
  }
  return kExitOk;
}

int RunBatchesGet(const BatchesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto batch = api.get_json(BatchPath(f.id));
  if (!batch.ok()) return ReportError(batch.status());
  PrintBatch(*batch, f.client);
  return kExitOk;
}

int RunBatchesCancel(const BatchesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto batch = api.post_json(BatchPath(f.id) + "/cancel", json::object{});
  if (!batch.ok()) return ReportError(batch.status());
  PrintBatch(*batch, f.client);
  return kExitOk;
}

int RunBatchesList(const BatchesFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto page = api.get_json(
      "/v1/batches" + client::QueryString({{"limit", f.limit > 0 ? std::to_string(f.limit) : ""},
                                           {"after", f.after}}));
  if (!page.ok()) return ReportError(page.status());
  if (f.client.output == "json") {
    std::printf("%s\n", JsonText(*page).c_str());
    return kExitOk;
  }
  const json::object* o = page->if_object();
  const json::value* data = o ? o->if_contains("data") : nullptr;
  if (!data || !data->is_array())
    return ReportError(Internal("the server answered a batch list without \"data\""));
  for (const json::value& v : data->as_array()) {
    if (!v.is_object()) continue;
    const json::object& b = v.as_object();
    std::printf("%s %s %s %lld/%lld %s\n", Str(b, "id").c_str(), Str(b, "status").c_str(),
                Str(b, "endpoint").c_str(), static_cast<long long>(Count(b, "completed")),
                static_cast<long long>(Count(b, "total")), Time(b, "created_at").c_str());
  }
  const json::value* more = o->if_contains("has_more");
  if (more && more->is_bool() && more->as_bool()) {
    std::fprintf(stderr, "sluice: more batches: --after %s\n", Str(*o, "last_id").c_str());
  }
  return kExitOk;
}

}  // namespace sluice
