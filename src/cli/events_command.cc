// `sluice events [--types job.done,batch.*] [--after SEQ]`: tails GET /v1/events (Server-Sent
// Events, events/event_stream.h) and prints one line per event as it arrives: "<type> <id>"
// (the job's or the batch's id), or with -o json the event's data line, a JSON object with its
// seq, job_id, type, at and data. Every line is flushed, so a pipe sees it at once.
//
// The stream is read as it arrives (client::SseReader), never gathered: memory is one event,
// and an event over --max-event-bytes (1 MiB) ends the command with exit 3. It runs until:
//   Ctrl-C (SIGINT) or SIGTERM        exit 0
//   the server closes the stream      exit 3 (it stopped, or dropped a client that read too
//                                     slowly), naming the --after that resumes without a gap
//   the server is silent for 60 s     exit 3 (it writes a keep-alive every 15 s)
// Once the server has accepted the stream, stderr says so: events committed from then on are
// printed (earlier ones with --after).
//
// `sluice events --job ID [--types …]`: the job's history, GET /v1/jobs/{id}/events, printed
// once: "<at> <type> <data>" a line (-o json: the list). --types filters it by the stream's
// names (job.done matches the history's "done").
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "client/sse_reader.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// Set by SIGINT/SIGTERM; the transfer looks at it (CallOptions::cancel). A signal handler may
// only touch lock-free atomics.
std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free);

void OnInterrupt(int) {
  interrupted.store(true);
}

void CatchInterrupts() {
  struct sigaction action {};
  action.sa_handler = OnInterrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESETHAND;  // a second Ctrl-C ends the process at once
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// The server's keep-alive comes every 15 s: four missed ones mean it is gone.
constexpr Millis kStreamSilence = 60'000;

std::vector<std::string> SplitTypes(const std::string& types) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < types.size()) {
    std::size_t comma = types.find(',', start);
    if (comma == std::string::npos) comma = types.size();
    if (comma > start) out.push_back(types.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

// The stream's name of a history type, as events/event_stream.h StreamEventType: "done" is
// "job.done"; a type with a dot (batch.completed) stays.
std::string StreamName(const std::string& stored) {
  return stored.find('.') == std::string::npos ? "job." + stored : stored;
}

bool TypeMatches(const std::vector<std::string>& filters, const std::string& type) {
  if (filters.empty()) return true;
  for (const std::string& f : filters) {
    if (f == type) return true;
    if (f.size() >= 2 && f.ends_with(".*") && type.starts_with(f.substr(0, f.size() - 1)))
      return true;
  }
  return false;
}

int PrintHistory(client::ApiClient& api, const EventsFlags& f) {
  auto body = api.get_json("/v1/jobs/" + client::UrlEscape(f.job) + "/events");
  if (!body.ok()) return ReportError(body.status());
  const json::object* o = body->if_object();
  const json::value* data = o ? o->if_contains("data") : nullptr;
  if (!data || !data->is_array())
    return ReportError(Internal("the server answered a job history without \"data\""));
  const std::vector<std::string> filters = SplitTypes(f.types);
  json::array kept;
  for (const json::value& e : data->as_array()) {
    const json::object* event = e.if_object();
    const json::value* type = event ? event->if_contains("type") : nullptr;
    if (!type || !type->is_string() ||
        !TypeMatches(filters, StreamName(std::string(type->as_string()))))
      continue;
    kept.push_back(e);
  }
  if (f.client.output == "json") {
    std::printf("%s\n",
                JsonText(json::object{{"object", "list"}, {"data", std::move(kept)}}).c_str());
    return kExitOk;
  }
  for (const json::value& e : kept) {
    const json::object& event = e.as_object();
    const json::value* at = event.if_contains("at");
    std::string line = at && at->is_string() ? std::string(at->as_string()) : "-";
    line += " " + std::string(event.at("type").as_string());
    const json::value* details = event.if_contains("data");
    if (details && !(details->is_object() && details->as_object().empty()) && !details->is_null()) {
      line += " " + JsonText(*details);
    }
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

// One line for an event of the stream.
void PrintStreamEvent(const client::SseEvent& e, bool json_out) {
  if (json_out) {
    std::printf("%s\n", e.data.c_str());
  } else {
    boost::system::error_code ec;
    json::value data = json::parse(e.data, ec);
    const json::value* id =
        !ec && data.is_object() ? data.as_object().if_contains("job_id") : nullptr;
    std::printf("%s %s\n", e.type.c_str(),
                id && id->is_string() ? id->as_string().c_str() : e.id.c_str());
  }
  std::fflush(stdout);
}

int Tail(client::ApiClient& api, const EventsFlags& f) {
  CatchInterrupts();
  const bool json_out = f.client.output == "json";
  client::SseReader reader(static_cast<std::size_t>(f.max_event_bytes));
  bool announced = false;
  const std::function<Status(const client::SseEvent&)> on_event =
      [json_out](const client::SseEvent& e) {
        PrintStreamEvent(e, json_out);
        return Status::Ok();
      };
  const client::BodySink sink = [&](std::string_view piece) {
    if (!announced) {
      // The server writes its preamble as soon as the stream is registered.
      std::fprintf(stderr, "sluice: streaming events from %s (Ctrl-C to stop)\n",
                   api.options().server.c_str());
      announced = true;
    }
    return reader.feed(piece, on_event);
  };
  const std::string path =
      "/v1/events" + client::QueryString({{"types", f.types},
                                          {"after", f.after >= 0 ? std::to_string(f.after) : ""}});
  auto streamed = api.stream(
      "GET", path, sink,
      client::CallOptions{
          .timeout = client::kNoTimeout, .idle_timeout = kStreamSilence, .cancel = &interrupted});
  const std::string resume =
      reader.last_id().empty() ? std::string() : " (resume with --after " + reader.last_id() + ")";
  if (streamed.ok()) {
    std::fprintf(stderr, "sluice: the server closed the event stream%s\n", resume.c_str());
    return kExitServer;
  }
  const Status& s = streamed.status();
  if (s.code() == StatusCode::kCanceled) return kExitOk;
  if (s.code() == StatusCode::kDeadlineExceeded) {
    std::fprintf(stderr,
                 "sluice: the server at %s sent nothing, not even a keep-alive, for %lld s%s\n",
                 api.options().server.c_str(), static_cast<long long>(kStreamSilence / 1000),
                 resume.c_str());
    return kExitServer;
  }
  if (s.code() == StatusCode::kResourceExhausted) {
    std::fprintf(stderr, "sluice: %s (--max-event-bytes)%s\n", s.message().c_str(), resume.c_str());
    return kExitServer;
  }
  return ReportError(s);
}

}  // namespace

int RunEvents(const EventsFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  return f.job.empty() ? Tail(api, f) : PrintHistory(api, f);
}

}  // namespace sluice
