#include "client/pretty_json.h"

#include <boost/json.hpp>

#include "json/json_text.h"

namespace sluice::client {

namespace json = boost::json;

namespace {

void Write(const json::value& v, int depth, std::string& out) {
  const std::string pad(static_cast<std::size_t>(depth + 1) * 2, ' ');
  const std::string close_pad(static_cast<std::size_t>(depth) * 2, ' ');
  if (v.is_object() && !v.as_object().empty()) {
    out += "{\n";
    bool first = true;
    for (const auto& [key, item] : v.as_object()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      AppendJsonText(out, json::string(key));
      out += ": ";
      Write(item, depth + 1, out);
    }
    out += "\n" + close_pad + "}";
  } else if (v.is_array() && !v.as_array().empty()) {
    out += "[\n";
    bool first = true;
    for (const auto& item : v.as_array()) {
      if (!first) out += ",\n";
      first = false;
      out += pad;
      Write(item, depth + 1, out);
    }
    out += "\n" + close_pad + "]";
  } else {
    AppendJsonText(out, v);  // numbers as json/json_text.h writes them ("0.93", not "9.3E-1")
  }
}

}  // namespace

std::string PrettyJson(const json::value& value) {
  std::string out;
  Write(value, 0, out);
  return out;
}

}  // namespace sluice::client
