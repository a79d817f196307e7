#include "mockllm/completion.h"

#include <algorithm>

#include <boost/json.hpp>

#include "answer/answer_engine.h"
#include "answer/text.h"

namespace sluice::mockllm {
namespace {

namespace json = boost::json;

json::object Usage(const Completion& c) {
  json::object usage{{"prompt_tokens", c.prompt_tokens},
                     {"completion_tokens", c.completion_tokens},
                     {"total_tokens", c.prompt_tokens + c.completion_tokens}};
  if (c.cached_tokens > 0) {
    usage["prompt_tokens_details"] = json::object{{"cached_tokens", c.cached_tokens}};
  }
  if (c.reasoning_tokens > 0) {
    usage["completion_tokens_details"] = json::object{{"reasoning_tokens", c.reasoning_tokens}};
  }
  return usage;
}

std::string Event(const json::object& chunk) { return "data: " + json::serialize(chunk) + "\n\n"; }

json::object Chunk(const Completion& c, json::object delta, json::value finish_reason) {
  return {{"id", c.id},
          {"object", "chat.completion.chunk"},
          {"created", c.created_s},
          {"model", c.model},
          {"choices", json::array{json::object{
                          {"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish_reason)}}}}};
}

std::string HalfOf(const std::string& text) {
  return answer::TruncateCodePoints(text, answer::CodePointCount(text) / 2);
}

const json::value* RequestSchema(const json::object& request) {
  const json::value* rf = request.if_contains("response_format");
  if (rf == nullptr || !rf->is_object()) return nullptr;
  const json::value* js = rf->get_object().if_contains("json_schema");
  if (js != nullptr && js->is_object()) return js->get_object().if_contains("schema");
  return rf->get_object().if_contains("schema");
}

}  // namespace

Completion MakeCompletion(const json::object& request, std::string id, std::int64_t created_s) {
  answer::Answer a = answer::AnswerChat(request);
  Completion c;
  c.id = std::move(id);
  c.created_s = created_s;
  const json::value* model = request.if_contains("model");
  c.model = model != nullptr && model->is_string() ? std::string(model->get_string()) : "mock";
  c.content = std::move(a.content);
  c.prompt_tokens = a.prompt_tokens;
  c.completion_tokens = a.completion_tokens;
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    const json::value* limit = request.if_contains(key);
    if (limit == nullptr || !limit->is_int64() || limit->get_int64() <= 0) continue;
    const std::int64_t max = limit->get_int64();
    if (c.completion_tokens > max) {
      std::size_t keep = answer::CodePointCount(c.content) * static_cast<std::size_t>(max) /
                         static_cast<std::size_t>(c.completion_tokens);
      c.content = answer::TruncateCodePoints(c.content, keep);
      c.completion_tokens = std::min<int>(answer::EstimateTokens(c.content), static_cast<int>(max));
      c.finish_reason = "length";
    }
    break;
  }
  return c;
}

void SetUsageDetails(Completion& c, double cached_share, double reasoning_share) {
  c.cached_tokens = static_cast<int>(c.prompt_tokens * cached_share);
  c.reasoning_tokens = static_cast<int>(c.completion_tokens * reasoning_share);
}

Completion Truncate(Completion c) {
  c.content = HalfOf(c.content);
  c.completion_tokens = answer::EstimateTokens(c.content);
  c.reasoning_tokens = std::min(c.reasoning_tokens, c.completion_tokens);
  c.finish_reason = "length";
  return c;
}

std::string CompletionJson(const Completion& c) {
  return json::serialize(json::object{
      {"id", c.id},
      {"object", "chat.completion"},
      {"created", c.created_s},
      {"model", c.model},
      {"choices", json::array{json::object{
                      {"index", 0},
                      {"message", json::object{{"role", "assistant"}, {"content", c.content}}},
                      {"logprobs", nullptr},
                      {"finish_reason", c.finish_reason}}}},
      {"usage", Usage(c)},
      {"system_fingerprint", "sluice-mock"},
  });
}

std::vector<std::string> CompletionEvents(const Completion& c, bool include_usage, bool finished) {
  std::vector<std::string> events;
  events.push_back(Event(Chunk(c, {{"role", "assistant"}, {"content", ""}}, nullptr)));
  // Pieces of about four words, split after spaces so UTF-8 stays whole.
  auto piece = [&](std::size_t from, std::size_t to) {
    events.push_back(Event(Chunk(c, {{"content", c.content.substr(from, to - from)}}, nullptr)));
  };
  std::size_t start = 0;
  int spaces = 0;
  for (std::size_t i = 0; i < c.content.size(); ++i) {
    if (c.content[i] == ' ' && ++spaces % 4 == 0) {
      piece(start, i + 1);
      start = i + 1;
    }
  }
  if (start < c.content.size()) piece(start, c.content.size());
  if (!finished) return events;
  events.push_back(Event(Chunk(c, json::object{}, json::value(c.finish_reason))));
  if (include_usage) {
    json::object usage_chunk = Chunk(c, json::object{}, nullptr);
    usage_chunk["choices"] = json::array{};
    usage_chunk["usage"] = Usage(c);
    events.push_back(Event(usage_chunk));
  }
  events.push_back("data: [DONE]\n\n");
  return events;
}

http::Response OpenAiError(int status, const std::string& message, const std::string& type,
                           const std::string& code) {
  json::object error{{"message", message}, {"type", type}, {"param", nullptr}};
  error["code"] = code.empty() ? json::value(nullptr) : json::value(code);
  return http::Response{status, "application/json", {}, json::serialize(json::object{{"error", std::move(error)}})};
}

http::Response GarbageBody(const Completion& c, std::uint64_t draw) {
  std::string body = draw % 2 == 0
                         ? "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad "
                           "Gateway</h1></center></body></html>"
                         : HalfOf(CompletionJson(c));
  return http::Response{200, "application/json", {}, std::move(body)};
}

std::string GarbageContent(const json::object& request, const Completion& c, std::uint64_t draw) {
  if (!WantsJson(request)) return "\xEF\xBF\xBD<|im_end|> {{{{ ]]]] undefined undefined";
  const json::value* schema = RequestSchema(request);
  if (draw % 2 == 1 && schema != nullptr && schema->is_object()) {
    const json::value* required = schema->get_object().if_contains("required");
    boost::system::error_code ec;
    json::value answer = json::parse(c.content, ec);
    if (!ec && answer.is_object() && required != nullptr && required->is_array() &&
        !required->get_array().empty() && required->get_array()[0].is_string()) {
      answer.get_object().erase(required->get_array()[0].get_string());
      return json::serialize(answer);
    }
  }
  return HalfOf(c.content);
}

bool WantsJson(const json::object& request) {
  const json::value* rf = request.if_contains("response_format");
  if (rf == nullptr || !rf->is_object()) return false;
  const json::value* type = rf->get_object().if_contains("type");
  return type != nullptr && type->is_string() &&
         (type->get_string() == "json_object" || type->get_string() == "json_schema");
}

}  // namespace sluice::mockllm
