#include "tasks/prompt.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>

#include "tasks/json_text.h"

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

bool IsReservedParam(std::string_view key) {
  return key == "model" || key == "messages" || key == "response_format" || key == "stream";
}

Result<json::object> BuildChatRequest(const TaskVersion& version, const RenderInput& input) {
  for (const auto& [key, value] : input.params) {
    if (IsReservedParam(key)) {
      return InvalidArgument("params may not set '" + std::string(key) + "'",
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
