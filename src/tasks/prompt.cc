#include "tasks/prompt.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// A template cut into literal text and tags. Views point into the template.
struct Piece {
  bool is_variable = false;
  std::string_view text;  // the literal text, or the variable's dotted path
};

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// "metadata.customer_tier": dot-separated non-empty segments of [A-Za-z0-9_-].
bool IsWellFormedPath(std::string_view path) {
  if (path.empty() || path.front() == '.' || path.back() == '.') return false;
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '.' ? path[i + 1] == '.' : !IsNameChar(path[i])) return false;
  }
  return true;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

Result<std::vector<Piece>> Parse(std::string_view tmpl) {
  std::vector<Piece> pieces;
  size_t pos = 0;
  while (pos < tmpl.size()) {
    size_t open = tmpl.find("{{", pos);
    if (open == std::string_view::npos) {
      pieces.push_back({false, tmpl.substr(pos)});
      break;
    }
    if (open > pos) pieces.push_back({false, tmpl.substr(pos, open - pos)});
    size_t close = tmpl.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return InvalidArgument("template has an unclosed '{{' at offset " + std::to_string(open));
    }
    std::string_view path = Trim(tmpl.substr(open + 2, close - open - 2));
    if (!IsWellFormedPath(path)) {
      return InvalidArgument("template has a malformed tag '" +
                             std::string(tmpl.substr(open, close + 2 - open)) + "' at offset " +
                             std::to_string(open));
    }
    pieces.push_back({true, path});
    pos = close + 2;
  }
  return pieces;
}

// The request field a template variable comes from, for error reports.
std::string RequestField(std::string_view path) {
  return path == "text" ? "input.text" : std::string(path);
}

const json::value* Lookup(const json::object& vars, std::string_view path) {
  const json::object* scope = &vars;
  const json::value* found = nullptr;
  while (true) {
    size_t dot = path.find('.');
    found = scope->if_contains(path.substr(0, dot));
    if (found == nullptr || dot == std::string_view::npos) return found;
    if (!found->is_object()) return nullptr;
    scope = &found->get_object();
    path.remove_prefix(dot + 1);
  }
}

}  // namespace

Result<std::vector<std::string>> TemplateVariables(std::string_view tmpl) {
  ASSIGN_OR_RETURN(std::vector<Piece> pieces, Parse(tmpl));
  std::vector<std::string> names;
  for (const Piece& p : pieces) {
    if (!p.is_variable) continue;
    std::string_view root = p.text.substr(0, p.text.find('.'));
    bool known = std::any_of(std::begin(kTemplateRoots), std::end(kTemplateRoots),
                             [&](const char* r) { return root == r; });
    if (!known) {
      return InvalidArgument("template names unknown variable {{" + std::string(p.text) +
                             "}} (known: text, object_id, metadata.<key>)");
    }
    names.emplace_back(p.text);
  }
  return names;
}

Result<std::string> RenderTemplate(std::string_view tmpl, const json::object& vars) {
  ASSIGN_OR_RETURN(std::vector<Piece> pieces, Parse(tmpl));
  std::string out;
  out.reserve(tmpl.size());
  for (const Piece& p : pieces) {
    if (!p.is_variable) {
      out += p.text;
      continue;
    }
    const json::value* value = Lookup(vars, p.text);
    if (value == nullptr) {
      return InvalidArgument("missing template variable '" + std::string(p.text) + "'",
                             RequestField(p.text));
    }
    if (value->is_string()) {
      out += value->get_string();
    } else {
      out += JsonText(*value);
    }
  }
  return out;
}

json::object TemplateVars(const RenderInput& input) {
  json::object vars;
  vars["text"] = input.text;
  if (input.object_id) vars["object_id"] = *input.object_id;
  vars["metadata"] = input.metadata;
  return vars;
}

namespace {

struct ReservedParam {
  std::string_view key;
  std::string_view reason;
};

// Adding a key here refuses it in task files (at load) and in jobs (at submit, 400 naming
// params.<key>); removing one is an API change: a job could then alter its own contract.
constexpr ReservedParam kReservedParams[] = {
    // The contract: what is asked, of which model, answered in which shape.
    {"model",
     "the alias (and its fallback chain) picks the model; pin another alias with the job's model"},
    {"messages", "the prompt version is the prompt; the job's text goes in input"},
    {"response_format",
     "the response schema decides the answer's format; pick another with response_schema"},
    // The answer is read from the message content and checked against the schema: a tool or
    // function call, or audio, has no content to check, so the attempt could never succeed.
    {"tools",
     "a task's answer is the message content, checked against its schema, not a tool call"},
    {"tool_choice",
     "a task's answer is the message content, checked against its schema, not a tool call"},
    {"parallel_tool_calls",
     "a task's answer is the message content, checked against its schema, not a tool call"},
    {"functions",
     "a task's answer is the message content, checked against its schema, not a function call"},
    {"function_call",
     "a task's answer is the message content, checked against its schema, not a function call"},
    {"modalities", "a task's answer is text"},
    {"audio", "a task's answer is text"},
    // The worker reads one complete answer per call.
    {"stream", "a queued call is read whole; stream with POST /v1/chat/completions"},
    {"stream_options", "a queued call is read whole; stream with POST /v1/chat/completions"},
    // Cost: priced or billed outside the alias's per-token prices, so the cost limit and cost
    // reports would be wrong. Where they are wanted they belong in the [[model]]'s params,
    // next to the prices they change.
    {"service_tier",
     "a service tier changes the price; set it in the [[model]]'s params with its prices"},
    {"web_search_options", "web search is billed per call, outside the alias's token prices"},
    // Privacy: whether the provider keeps the exchange is the operator's decision, not a job's.
    {"store", "whether the provider keeps the exchange is set in the [[model]]'s params"},
    {"metadata",
     "provider-side metadata goes with store; the job's own metadata field is for yours"},
};

}  // namespace

std::string_view ReservedParamReason(std::string_view key) {
  for (const ReservedParam& p : kReservedParams) {
    if (p.key == key) return p.reason;
  }
  return {};
}

bool IsReservedParam(std::string_view key) {
  return !ReservedParamReason(key).empty();
}

Result<json::object> BuildChatRequest(const TaskVersion& version, const RenderInput& input) {
  for (const auto& [key, value] : input.params) {
    if (IsReservedParam(key)) {
      return InvalidArgument(
          "params may not set '" + std::string(key) + "': " + std::string(ReservedParamReason(key)),
          "params." + std::string(key));
    }
  }
  json::object vars = TemplateVars(input);
  json::array messages;
  if (!version.system.empty()) {
    ASSIGN_OR_RETURN(std::string system, RenderTemplate(version.system, vars));
    messages.push_back(json::object{{"role", "system"}, {"content", std::move(system)}});
  }
  ASSIGN_OR_RETURN(std::string user, RenderTemplate(version.user, vars));
  messages.push_back(json::object{{"role", "user"}, {"content", std::move(user)}});

  json::object body;
  if (!input.model.empty()) body["model"] = input.model;
  body["messages"] = std::move(messages);
  for (const auto& [key, value] : version.params) body[key] = value;
  for (const auto& [key, value] : input.params) body[key] = value;
  const ResponseSchema* schema = input.schema ? input.schema : version.schema.get();
  if (schema != nullptr) {
    body["response_format"] = json::object{
        {"type", "json_schema"},
        {"json_schema",
         json::object{{"name", schema->name}, {"strict", true}, {"schema", schema->document}}}};
  }
  return body;
}

}  // namespace sluice
