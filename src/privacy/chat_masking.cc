#include "privacy/chat_masking.h"

#include <boost/json.hpp>

namespace sluice::privacy {

namespace json = boost::json;

namespace {

void MaskString(const PiiMasker& masker, json::value& v, PiiMapping& mapping) {
  if (v.is_string()) v = masker.mask(std::string_view(v.as_string()), mapping);
}

}  // namespace

void MaskChatRequest(const PiiMasker& masker, json::object& request, PiiMapping& mapping) {
  json::value* messages = request.if_contains("messages");
  if (!messages || !messages->is_array()) return;
  for (json::value& message : messages->as_array()) {
    if (!message.is_object()) continue;
    json::value* content = message.as_object().if_contains("content");
    if (!content) continue;
    if (content->is_string()) {
      MaskString(masker, *content, mapping);
    } else if (content->is_array()) {
      for (json::value& part : content->as_array()) {
        if (!part.is_object()) continue;
        json::object& p = part.as_object();
        const json::value* type = p.if_contains("type");
        if (type && type->is_string() && type->as_string() == "text") {
          if (json::value* text = p.if_contains("text")) MaskString(masker, *text, mapping);
        }
      }
    }
  }
}

void UnmaskChatCompletion(json::object& completion, const PiiMapping& mapping) {
  if (mapping.empty()) return;
  json::value* choices = completion.if_contains("choices");
  if (!choices || !choices->is_array()) return;
  for (json::value& choice : choices->as_array()) {
    if (!choice.is_object()) continue;
    for (const char* part : {"message", "delta"}) {
      if (json::value* v = choice.as_object().if_contains(part)) mapping.unmask(*v);
    }
  }
}

}  // namespace sluice::privacy
