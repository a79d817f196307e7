// POST /v1/chat/completions: validate, decide the outcome, build it, and deliver it after the
// simulated latency on an event-loop timer.
#include <boost/json.hpp>
#include <charconv>

#include "answer/answer_engine.h"
#include "mockllm/completion.h"
#include "mockllm/mock_state.h"

namespace sluice::mockllm {
namespace {

namespace json = boost::json;

// What to do when the latency is over. Built at arrival so the timer only delivers.
struct Delivery {
  enum class Kind { kRespond, kStream, kAbort } kind = Kind::kRespond;
  http::Response response;
  std::vector<std::string> events;  // kStream
  bool cut = false;                 // kStream: reset the connection instead of ending it
};

// The request stops counting as in flight before its answer leaves, so a client that has
// its answer never sees itself still counted.
void Deliver(MockLlm::State& state, const http::Responder& responder, Delivery& d) {
  state.stats.finished();
  switch (d.kind) {
    case Delivery::Kind::kRespond:
      responder.send(std::move(d.response));
      break;
    case Delivery::Kind::kAbort:
      responder.abort();
      break;
    case Delivery::Kind::kStream:
      responder.start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
      for (std::string& event : d.events) responder.write(std::move(event));
      if (d.cut) {
        responder.abort();
      } else {
        responder.end();
      }
      break;
  }
}

bool BoolAt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

// The outcome of an accepted request, with its stats name.
Delivery Build(MockLlm::State& state, const json::object& body, const Decision& decision,
               std::string* outcome) {
  const bool stream = BoolAt(body, "stream");
  Delivery d;
  auto completion = [&] {
    Completion c = MakeCompletion(body, "chatcmpl-mock-" + std::to_string(state.next_id.fetch_add(1)),
                                  SystemClock::Instance().now() / 1000);
    SetUsageDetails(c, decision.cached_share, decision.reasoning_share);
    return c;
  };
  auto respond = [&](const Completion& c) {
    d.response = http::JsonResponse(200, CompletionJson(c));
  };
  auto stream_of = [&](const Completion& c, bool finished) {
    d.kind = Delivery::Kind::kStream;
    const json::value* opts = body.if_contains("stream_options");
    bool usage = opts != nullptr && opts->is_object() && BoolAt(opts->get_object(), "include_usage");
    d.events = CompletionEvents(c, usage, finished);
    d.cut = !finished;
  };

  switch (decision.fault.kind) {
    case FaultKind::kOk: {
      *outcome = "ok";
      Completion c = completion();
      if (stream) {
        stream_of(c, true);
      } else {
        respond(c);
      }
      return d;
    }
    case FaultKind::kHttpError: {
      *outcome = "error";
      const int status = decision.fault.status;
      d.response = OpenAiError(status, "The mock model failed with HTTP " + std::to_string(status),
                               status >= 500 ? "server_error" : "invalid_request_error");
      return d;
    }
    case FaultKind::kRateLimit:
      *outcome = "rate_limited";
      d.response = OpenAiError(429, "Rate limit reached for requests (mock)", "requests", "rate_limit_exceeded");
      d.response.headers.emplace_back("Retry-After", std::to_string(decision.retry_after_s));
      return d;
    case FaultKind::kGarbage:
    case FaultKind::kGarbageBody:
    case FaultKind::kGarbageContent: {
      *outcome = "garbage";
      Completion c = completion();
      FaultKind kind = decision.fault.kind;
      if (kind == FaultKind::kGarbage) {
        kind = WantsJson(body) && (decision.draw >> 8) % 2 == 1 ? FaultKind::kGarbageContent
                                                                 : FaultKind::kGarbageBody;
      }
      if (kind == FaultKind::kGarbageBody) {
        if (stream) {
          d.kind = Delivery::Kind::kStream;
          d.events = {"data: {\"id\": \"" + c.id + "\", \"choices\": [{\"delta\": {\"cont\n\n", "data: [DONE]\n\n"};
        } else {
          d.response = GarbageBody(c, decision.draw);
        }
        return d;
      }
      c.content = GarbageContent(body, c, decision.draw);
      c.completion_tokens = answer::EstimateTokens(c.content);
      if (stream) {
        stream_of(c, true);
      } else {
        respond(c);
      }
      return d;
    }
    case FaultKind::kTruncated: {
      *outcome = "truncated";
      Completion c = Truncate(completion());
      if (stream) {
        stream_of(c, false);
      } else {
        respond(c);
      }
      return d;
    }
    case FaultKind::kReset:
      *outcome = "reset";
      d.kind = Delivery::Kind::kAbort;
      return d;
    case FaultKind::kTimeout:
      break;  // handled by the caller: parked, never delivered
  }
  *outcome = "timeout";
  return d;
}

// The request's own override of the latency, or nullopt; a malformed value is an error.
Result<std::optional<Millis>> LatencyOverride(const http::Request& request) {
  std::string text = request.header("X-Mock-Latency-Ms");
  if (text.empty()) return std::optional<Millis>();
  Millis ms = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (ec != std::errc() || ptr != text.data() + text.size() || ms < 0) {
    return InvalidArgument("X-Mock-Latency-Ms must be a non-negative integer");
  }
  return std::optional<Millis>(ms);
}

Result<std::optional<Fault>> FaultOverride(const http::Request& request) {
  std::string text = request.header("X-Mock-Fault");
  if (text.empty()) return std::optional<Fault>();
  ASSIGN_OR_RETURN(Fault fault, ParseFault(text));
  return std::optional<Fault>(fault);
}

// The reason a body is not a chat-completions request, or "" when it is one.
std::string Invalid(const json::value& body, bool parsed) {
  if (!parsed || !body.is_object()) return "The request body must be a JSON object.";
  const json::value* messages = body.get_object().if_contains("messages");
  if (messages == nullptr || !messages->is_array() || messages->get_array().empty()) {
    return "'messages' must be a non-empty array.";
  }
  for (const json::value& m : messages->get_array()) {
    if (!m.is_object() || !m.get_object().contains("role")) {
      return "Each message must be an object with a 'role'.";
    }
  }
  return "";
}

}  // namespace

void HandleChatCompletions(const std::shared_ptr<MockLlm::State>& state, http::Request&& request,
                           http::Responder responder) {
  state->stats.arrived(SystemClock::Instance().now());
  state->requests.add(request.body);
  auto reject = [&](const std::string& message) {
    state->stats.outcome("bad_request");
    state->stats.finished();
    responder.send(OpenAiError(400, message, "invalid_request_error"));
  };
  boost::system::error_code ec;
  json::value body = json::parse(request.body, ec);
  if (std::string why = Invalid(body, !ec); !why.empty()) return reject(why);
  Result<std::optional<Fault>> fault = FaultOverride(request);
  if (!fault.ok()) return reject(fault.status().message());
  Result<std::optional<Millis>> latency = LatencyOverride(request);
  if (!latency.ok()) return reject(latency.status().message());

  Decision decision = state->plan.next(*fault, *latency);
  if (decision.fault.kind == FaultKind::kTimeout) {
    state->stats.outcome("timeout");
    state->park(std::move(responder));
    return;
  }
  std::string outcome;
  auto delivery = std::make_shared<Delivery>(Build(*state, body.get_object(), decision, &outcome));
  state->stats.outcome(outcome);
  if (decision.latency_ms <= 0) return Deliver(*state, responder, *delivery);
  state->loop.post_after(decision.latency_ms, [state, responder, delivery] { Deliver(*state, responder, *delivery); });
}

}  // namespace sluice::mockllm
