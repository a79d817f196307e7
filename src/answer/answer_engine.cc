#include "answer/answer_engine.h"

#include <boost/json.hpp>
#include <cmath>

#include "answer/document.h"
#include "answer/schema_filler.h"
#include "answer/summarize.h"
#include "answer/text.h"
#include "json/json_text.h"

namespace sluice::answer {
namespace {

namespace json = boost::json;

// A message's text: a string, or the text parts of an array of content parts.
std::string ContentText(const json::value* content) {
  if (content == nullptr) return "";
  if (content->is_string()) return std::string(content->get_string());
  std::string text;
  if (content->is_array()) {
    for (const json::value& part : content->get_array()) {
      if (!part.is_object()) continue;
      const json::value* t = part.get_object().if_contains("text");
      if (t == nullptr || !t->is_string()) continue;
      if (!text.empty()) text += '\n';
      text += t->get_string();
    }
  }
  return text;
}

// The schema asked for by response_format {"type": "json_schema", "json_schema": {"schema":
// ...}} (a bare "schema" beside "type" is accepted too); nullptr when none is.
const json::value* RequestedSchema(const json::object& format) {
  if (const json::value* js = format.if_contains("json_schema"); js != nullptr && js->is_object()) {
    if (const json::value* s = js->get_object().if_contains("schema")) return s;
  }
  return format.if_contains("schema");
}

}  // namespace

Answer AnswerChat(const json::object& request) {
  Answer answer;
  std::string subject;  // the last user message; the last message of any role if none is
  bool have_user = false;
  if (const json::value* messages = request.if_contains("messages"); messages && messages->is_array()) {
    for (const json::value& m : messages->get_array()) {
      if (!m.is_object()) continue;
      const json::object& message = m.get_object();
      std::string text = ContentText(message.if_contains("content"));
      answer.prompt_tokens += EstimateTokens(text);
      const json::value* role = message.if_contains("role");
      bool is_user = role != nullptr && role->is_string() && role->get_string() == "user";
      if (is_user || !have_user) subject = std::move(text);
      have_user = have_user || is_user;
    }
  }
  Document doc(std::move(subject));

  std::string_view format_type;
  const json::object* format = nullptr;
  if (const json::value* rf = request.if_contains("response_format"); rf && rf->is_object()) {
    format = &rf->get_object();
    if (const json::value* t = format->if_contains("type"); t && t->is_string()) format_type = t->get_string();
  }
  const json::value* schema = format_type == "json_schema" ? RequestedSchema(*format) : nullptr;
  if (schema != nullptr && (schema->is_object() || schema->is_bool())) {
    answer.content = JsonText(FillSchema(*schema, doc));
  } else if (format_type == "json_schema" || format_type == "json_object") {
    answer.content = JsonText(json::object{{"answer", Summarize(doc, 3, 400)}});
  } else {
    answer.content = Summarize(doc, 3, 400);
  }
  answer.completion_tokens = EstimateTokens(answer.content);
  return answer;
}

int EstimateTokens(std::string_view text) {
  if (text.empty()) return 0;
  ScriptCounts counts = CountScripts(text);
  double tokens = static_cast<double>(counts.ascii) / 4.0 + static_cast<double>(counts.cyrillic) / 2.5 +
                  static_cast<double>(counts.other);
  return std::max(1, static_cast<int>(std::ceil(tokens)));
}

}  // namespace sluice::answer
