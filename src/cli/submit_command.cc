// `sluice submit`: one job from flags, a file, a JSON body or stdin; prints its id (or the job
// with -o json). `--wait` uses the adaptive POST /v1/jobs?wait= and then long-polls for the
// rest of the wait when the server's own limit (server.max_wait) was shorter.
#include <unistd.h>

#include <cstdio>

#include <boost/json.hpp>

#include "blobs/blob_store.h"
#include "cli/client_commands.h"
#include "client/job_tracker.h"
#include "client/pretty_json.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// The input object for `text`: inline, or uploaded to /v1/blobs first when it is large (the
// queue then carries only the blob id).
Result<json::object> InputFor(client::ApiClient& api, const std::string& text, std::int64_t blob_threshold) {
  if (text.empty()) return InvalidArgument("the input text is empty", "input.text");
  if (static_cast<std::int64_t>(text.size()) <= blob_threshold) return json::object{{"text", text}};
  ASSIGN_OR_RETURN(client::ApiResponse r,
                   api.call("POST", "/v1/blobs", text, client::CallOptions{.content_type = "text/plain; charset=utf-8"}));
  const json::value* id = r.body.is_object() ? r.body.as_object().if_contains("id") : nullptr;
  if (!id || !id->is_string()) return Internal("POST /v1/blobs answered no blob id");
  return json::object{{"blob", id->as_string()}};
}

Result<json::object> BuildBody(const SubmitFlags& f, client::ApiClient& api) {
  int sources = !f.text.empty() + !f.input_file.empty() + !f.json.empty();
  if (sources > 1) return InvalidArgument("give one of --text, --input-file or --json");
  json::object body;
  std::optional<std::string> text;
  if (!f.json.empty()) {
    ASSIGN_OR_RETURN(std::string raw, ReadArgOrFile(f.json, "--json"));
    boost::system::error_code ec;
    json::value v = json::parse(raw, ec);
    if (ec || !v.is_object()) return InvalidArgument("--json must be a JSON object (a job body), or @file.json", "--json");
    body = std::move(v.as_object());
  } else if (!f.text.empty()) {
    text = f.text;
  } else if (!f.input_file.empty()) {
    ASSIGN_OR_RETURN(std::string content, ReadWholeFile(f.input_file));
    text = std::move(content);
  } else {
    if (isatty(STDIN_FILENO)) {
      return InvalidArgument("nothing to submit: give --text, --input-file, --json, or pipe the input on stdin");
    }
    ASSIGN_OR_RETURN(std::string content, ReadWholeFile("-"));
    if (f.fields.type.empty()) {
      // Without --type, stdin is a whole job body.
      boost::system::error_code ec;
      json::value v = json::parse(content, ec);
      if (ec || !v.is_object()) {
        return InvalidArgument("stdin is not a JSON job body (give --type to submit it as the input text)");
      }
      body = std::move(v.as_object());
    } else {
      text = std::move(content);
    }
  }
  if (text) {
    if (f.fields.type.empty()) return InvalidArgument("--type is required with --text, --input-file or stdin text", "--type");
    ASSIGN_OR_RETURN(json::object input, InputFor(api, *text, f.blob_threshold));
    body["input"] = std::move(input);
  }
  RETURN_IF_ERROR(ApplyJobFields(f.fields, body, /*override_body=*/true));
  if (!body.contains("type")) return InvalidArgument("the job has no type (give --type)", "--type");
  return body;
}

void PrintSubmitted(const SubmitFlags& f, const json::object& job) {
  if (f.client.output == "json") {
    std::printf("%s\n", JsonText(job).c_str());
  } else if (!f.wait.empty() && client::IsSettledStatus(JobStatusOf(job))) {
    PrintJobText(job);
  } else {
    const json::value* id = job.if_contains("id");
    std::printf("%s\n", id && id->is_string() ? id->as_string().c_str() : "?");
  }
}

}  // namespace

int RunSubmit(const SubmitFlags& f) {
  std::optional<Millis> wait;
  if (!f.wait.empty()) {
    auto d = ParseDuration(f.wait);
    if (!d.ok()) return ReportError(InvalidArgument("--wait: " + d.status().message()));
    wait = *d;
  }
  client::ApiClient api(ClientOptionsFor(f.client));
  auto body = BuildBody(f, api);
  if (!body.ok()) return ReportError(body.status());

  const Millis started = SystemClock::Instance().now();
  std::string path = "/v1/jobs";
  if (wait) path += "?wait=" + std::to_string(*wait) + "ms";
  auto answer = api.call("POST", path, JsonText(*body),
                         client::CallOptions{.timeout = wait.value_or(0) + 60'000});
  if (!answer.ok()) return ReportError(answer.status());
  if (!answer->body.is_object()) return ReportError(Internal("the server answered a job that is not JSON"));
  json::object job = std::move(answer->body.as_object());
  if (auto* dedup = job.if_contains("deduplicated"); dedup && dedup->is_bool() && dedup->as_bool()) {
    std::fprintf(stderr, "sluice: deduplicated: a job with this dedup key already exists\n");
  }
  if (!wait) {
    PrintSubmitted(f, job);
    return kExitOk;
  }
  const std::string id = job.contains("id") ? std::string(job.at("id").as_string()) : "";
  if (!client::IsSettledStatus(JobStatusOf(job))) {
    auto settled = WaitForSettled(api, id, started + *wait);
    if (!settled.ok()) {
      PrintSubmitted(f, job);
      if (settled.status().code() == StatusCode::kDeadlineExceeded) {
        std::fprintf(stderr, "sluice: job %s did not end within %s; it goes on in the background\n", id.c_str(),
                     f.wait.c_str());
        return kExitTimeout;
      }
      return ReportError(settled.status());
    }
    job = std::move(settled).value();
  }
  PrintSubmitted(f, job);
  return ExitCodeForJob(JobStatusOf(job));
}

}  // namespace sluice
