#include "client/pretty_json.h"

#include <charconv>

#include <boost/json.hpp>

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
      out += pad + json::serialize(json::string(key)) + ": ";
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
  } else if (v.is_double()) {
    // Shortest round-trip form ("0.93"), not Boost's "9.3E-1".
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.as_double());
    out += ec == std::errc() ? std::string(buf, end) : json::serialize(v);
  } else {
    out += json::serialize(v);
  }
}

}  // namespace

std::string PrettyJson(const json::value& value) {
  std::string out;
  Write(value, 0, out);
  return out;
}

}  // namespace sluice::client
