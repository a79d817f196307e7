#include "tasks/json_text.h"

#include <boost/json.hpp>
#include <charconv>

namespace sluice {

namespace json = boost::json;

namespace {

void Append(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::double_: {
      char buf[32];
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
      out.append(buf, ec == std::errc() ? end : buf);
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : v.get_array()) {
        if (!first) out += ',';
        first = false;
        Append(out, item);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.get_object()) {
        if (!first) out += ',';
        first = false;
        out += json::serialize(json::string_view(key));
        out += ':';
        Append(out, item);
      }
      out += '}';
      return;
    }
    default:
      out += json::serialize(v);
  }
}

}  // namespace

std::string JsonText(const json::value& value) {
  std::string out;
  Append(out, value);
  return out;
}

}  // namespace sluice
