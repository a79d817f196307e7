// /v1/events: the tenant's live event stream (Server-Sent Events; events/event_stream.h).
//
//   GET /v1/events                       events from now on
//   GET /v1/events  Last-Event-ID: 1234  every event after seq 1234 (an EventSource reconnecting)
//   GET /v1/events?after=1234            the same, for clients that cannot set headers
//   GET /v1/events?types=job.done,job.failed   only these types ("job.*" for a whole family)
#include <charconv>
#include <string>
#include <vector>

#include "api/off_loop.h"
#include "api/responses.h"
#include "api/routes.h"
#include "events/event_stream.h"

namespace sluice {

namespace {

constexpr std::size_t kMaxTypes = 64;

Result<std::int64_t> ParseSeq(const std::string& text, const char* field) {
  std::int64_t seq = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), seq);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || seq < 0) {
    return InvalidArgument(std::string(field) + " must be an event id (a non-negative integer)",
                           field);
  }
  return seq;
}

Result<std::vector<std::string>> ParseTypes(const std::string& text) {
  std::vector<std::string> types;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string type = text.substr(start, comma - start);
    if (!IsStreamTypeFilter(type)) {
      std::string known = "job.*, batch.*";
      for (std::string_view t : kStreamEventTypes) known += ", " + std::string(t);
      return InvalidArgument("unknown event type '" + type.substr(0, 64) + "' in types (the types are " + known + ")",
                             "types");
    }
    types.push_back(std::move(type));
    start = comma + 1;
  }
  if (types.size() > kMaxTypes) return InvalidArgument("too many types", "types");
  return types;
}

void StreamEvents(ApiContext& ctx, http::Request&& request, http::Responder responder,
                  const std::string& tenant) {
  if (!ctx.event_stream) return SendError(responder, Unavailable("the event stream is not running"));
  std::int64_t after = -1;
  if (std::string last = request.header("Last-Event-ID"); !last.empty()) {
    auto seq = ParseSeq(last, "Last-Event-ID");
    if (!seq.ok()) return SendError(responder, seq.status());
    after = *seq;
  } else if (auto param = request.query_param("after")) {
    auto seq = ParseSeq(*param, "after");
    if (!seq.ok()) return SendError(responder, seq.status());
    after = *seq;
  }
  std::vector<std::string> types;
  if (auto param = request.query_param("types"); param && !param->empty()) {
    auto parsed = ParseTypes(*param);
    if (!parsed.ok()) return SendError(responder, parsed.status());
    types = std::move(parsed).value();
  }
  // Past the hub's stream caps open() leaves the responder to us: 429 too_many_streams.
  if (after >= 0) {
    Status opened = ctx.event_stream->open(responder, tenant, after, std::move(types));
    if (!opened.ok()) SendError(responder, opened);
    return;
  }
  // "From now on" asks the store where now is.
  RunOffLoop(ctx, responder, [&ctx, tenant, types = std::move(types), responder]() mutable {
    auto head = ctx.store.events_head();
    if (!head.ok()) return SendError(responder, head.status());
    Status opened = ctx.event_stream->open(responder, tenant, *head, std::move(types));
    if (!opened.ok()) SendError(responder, opened);
  });
}

}  // namespace

void AddEventRoutes(ApiContext& ctx, Router& router) {
  router.add("GET", "/v1/events", [&ctx](http::Request&& r, http::Responder s, const RouteContext& rc) {
    StreamEvents(ctx, std::move(r), std::move(s), rc.tenant());
  });
}

}  // namespace sluice
