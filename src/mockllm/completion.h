// The OpenAI wire shapes the simulator answers with: chat.completion objects, their
// chat.completion.chunk stream, error bodies, and the broken answers of fault injection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <boost/json/fwd.hpp>

#include "core/time.h"
#include "http/server.h"

namespace sluice::mockllm {

struct Completion {
  std::string id;     // "chatcmpl-mock-17"
  std::string model;  // the request's model, echoed
  std::int64_t created_s = 0;
  std::string content;
  std::string finish_reason = "stop";
  int prompt_tokens = 0;
  int completion_tokens = 0;
  int cached_tokens = 0;     // of prompt_tokens; reported in usage details when > 0
  int reasoning_tokens = 0;  // of completion_tokens; likewise
};

// Sets the usage details of `c` from its counts (MockOptions::cached_share, reasoning_share).
void SetUsageDetails(Completion& c, double cached_share, double reasoning_share);

// The answer engine's answer to `request`. A max_tokens (or max_completion_tokens) below the
// answer's size cuts the content to fit and sets finish_reason "length", as a real model does.
Completion MakeCompletion(const boost::json::object& request, std::string id, std::int64_t created_s);

// The same completion cut in half with finish_reason "length".
Completion Truncate(Completion completion);

std::string CompletionJson(const Completion& c);

// Server-Sent Events ("data: {...}\n\n") for a streamed completion: a role chunk, content
// chunks of a few words, a finish chunk, a usage chunk when include_usage, then
// "data: [DONE]". With finished = false the stream stops after the content (a cut stream).
std::vector<std::string> CompletionEvents(const Completion& c, bool include_usage, bool finished);

// {"error": {"message", "type", "param": null, "code"}} with the status.
http::Response OpenAiError(int status, const std::string& message, const std::string& type,
                           const std::string& code = "");

// A 200 whose body is not JSON: an HTML error page or the completion cut mid-way (by draw).
http::Response GarbageBody(const Completion& c, std::uint64_t draw);

// Content a client must reject: for a schema request, the answer without its first required
// property (when it has one and draw is odd) or the answer's JSON cut in half; for others,
// text that is no JSON at all.
std::string GarbageContent(const boost::json::object& request, const Completion& c, std::uint64_t draw);

// True when the request asks for JSON (response_format json_object or json_schema).
bool WantsJson(const boost::json::object& request);

}  // namespace sluice::mockllm
