#include "cli/client_common.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "client/job_tracker.h"
#include "client/pretty_json.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

void AddClientOptions(CLI::App& cmd, ClientFlags& flags) {
  cmd.add_option("--server", flags.server, "server base URL (default: $SLUICE_SERVER, else http://127.0.0.1:8080)");
  cmd.add_option("-o,--output", flags.output, "output format: text or json")->check(CLI::IsMember({"text", "json"}));
  cmd.add_flag_callback("--json-output", [&flags] { flags.output = "json"; }, "same as -o json");
}

client::ClientOptions ClientOptionsFor(const ClientFlags& flags) { return client::OptionsFromEnvironment(flags.server); }

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return kExitOk;
    case StatusCode::kUnavailable:
    case StatusCode::kInternal:
    case StatusCode::kAborted:
    case StatusCode::kResourceExhausted:
      return kExitServer;
    case StatusCode::kDeadlineExceeded:
      return kExitTimeout;
    default:
      return kExitUsage;
  }
}

int ExitCodeForJob(const std::string& status) { return status == "done" ? kExitOk : kExitJobFailed; }

int ReportError(const Status& status) {
  std::fprintf(stderr, "sluice: %s\n", status.message().c_str());
  return ExitCodeFor(status);
}

std::string JobStatusOf(const json::object& job) {
  const json::value* s = job.if_contains("status");
  return s && s->is_string() ? std::string(s->as_string()) : std::string();
}

Result<json::object> WaitForSettled(client::ApiClient& api, const std::string& id, std::optional<Millis> deadline) {
  const Clock& clock = SystemClock::Instance();
  for (;;) {
    // The server caps ?wait= at its max_wait (60 s by default): ask for at most that and loop.
    Millis wait = 60'000;
    if (deadline) {
      Millis left = *deadline - clock.now();
      if (left <= 0) return Status(StatusCode::kDeadlineExceeded, "timed out waiting for job " + id);
      wait = std::min(wait, left);
    }
    ASSIGN_OR_RETURN(json::value v, api.get_json("/v1/jobs/" + id + "?wait=" + std::to_string(wait) + "ms",
                                                 wait + 30'000));
    if (!v.is_object()) return Internal("the server answered a job that is not a JSON object");
    if (client::IsSettledStatus(JobStatusOf(v.as_object()))) return std::move(v.as_object());
  }
}

void PrintJobText(const json::object& job) {
  const std::string status = JobStatusOf(job);
  const json::value* id = job.if_contains("id");
  std::printf("%s %s\n", id && id->is_string() ? id->as_string().c_str() : "?", status.c_str());
  if (const json::value* error = job.if_contains("error"); error && error->is_object()) {
    const json::object& e = error->as_object();
    auto text = [&](const char* k) {
      const json::value* v = e.if_contains(k);
      return v && v->is_string() ? std::string(v->as_string()) : std::string();
    };
    std::printf("error: %s: %s\n", text("code").c_str(), text("message").c_str());
  }
  if (const json::value* result = job.if_contains("result"); result && result->is_object()) {
    if (const json::value* output = result->as_object().if_contains("output"); output && !output->is_null()) {
      std::printf("%s\n", client::PrettyJson(*output).c_str());
    } else if (const json::value* text = result->as_object().if_contains("text"); text && text->is_string()) {
      std::printf("%s\n", text->as_string().c_str());
    }
  }
}

void PrintJob(const ClientFlags& flags, const boost::json::value& job) {
  if (flags.output == "json" || !job.is_object()) {
    std::printf("%s\n", JsonText(job).c_str());
  } else {
    PrintJobText(job.as_object());
  }
}

Status CannotRead(const std::string& path) {
  const int error = errno;
  return InvalidArgument(
      "cannot read " + path + (error ? std::string(": ") + std::strerror(error) : ""), path);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  if (path == "-") {
    std::stringstream buf;
    buf << std::cin.rdbuf();
    return buf.str();
  }
  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) return CannotRead(path);
  // A directory opens, then reads as nothing.
  if (std::error_code ec; std::filesystem::is_directory(path, ec)) {
    errno = EISDIR;
    return CannotRead(path);
  }
  std::stringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return CannotRead(path);
  return buf.str();
}

Result<std::string> ReadArgOrFile(const std::string& value, const std::string& flag) {
  if (!value.empty() && value[0] == '@') {
    auto text = ReadWholeFile(value.substr(1));
    if (!text.ok()) return InvalidArgument(flag + ": " + text.status().message(), flag);
    return text;
  }
  return value;
}

}  // namespace sluice
