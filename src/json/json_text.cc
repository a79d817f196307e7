#include "json/json_text.h"

#include <array>
#include <charconv>
#include <cmath>

#include <boost/json.hpp>

namespace sluice {

namespace json = boost::json;

namespace {

// Bytes a JSON string cannot hold as they are: control characters, the quote, the backslash.
// A table, not three comparisons a byte: strings are most of what is written.
constexpr auto kNeedsEscape = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 0x20; ++c) table[c] = true;
  table['"'] = table['\\'] = true;
  return table;
}();

void AppendString(std::string& out, json::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* run = s.data();  // first byte not yet copied
  const char* const end = s.data() + s.size();
  for (const char* p = run; p != end; ++p) {
    const auto c = static_cast<unsigned char>(*p);
    if (!kNeedsEscape[c]) [[likely]] continue;
    out.append(run, p);
    run = p + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xf];
    }
  }
  out.append(run, end);
  out += '"';
}

void AppendDouble(std::string& out, double d) {
  if (!std::isfinite(d)) {
    out += "null";
    return;
  }
  char buf[400];  // fixed form of the largest double below 1e21, with room to spare
  const double magnitude = std::fabs(d);
  const bool fixed = magnitude == 0 || (magnitude >= 1e-7 && magnitude < 1e21);
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof buf, d);
  if (ec != std::errc()) {
    out += "null";
    return;
  }
  if (fixed && d == 0) {
    out += '0';  // -0.0 too
    return;
  }
  out.append(buf, end);
}

template <typename Int>
void AppendInteger(std::string& out, Int i) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, i);
  out.append(buf, ec == std::errc() ? end : buf);
}

void AppendArray(std::string& out, const json::array& array) {
  out += '[';
  bool first = true;
  for (const json::value& item : array) {
    if (!first) out += ',';
    first = false;
    AppendJsonText(out, item);
  }
  out += ']';
}

void AppendObject(std::string& out, const json::object& object) {
  out += '{';
  bool first = true;
  for (const auto& [key, item] : object) {
    if (!first) out += ',';
    first = false;
    AppendString(out, key);
    out += ':';
    AppendJsonText(out, item);
  }
  out += '}';
}

}  // namespace

std::string NumberText(double value) {
  std::string out;
  AppendDouble(out, value);
  return out;
}

void AppendJsonText(std::string& out, const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      out += "null";
      return;
    case json::kind::bool_:
      out += v.get_bool() ? "true" : "false";
      return;
    case json::kind::int64:
      return AppendInteger(out, v.get_int64());
    case json::kind::uint64:
      return AppendInteger(out, v.get_uint64());
    case json::kind::double_:
      return AppendDouble(out, v.get_double());
    case json::kind::string:
      return AppendString(out, v.get_string());
    case json::kind::array:
      return AppendArray(out, v.get_array());
    case json::kind::object:
      return AppendObject(out, v.get_object());
  }
}

std::string JsonText(const json::value& value) {
  std::string out;
  out.reserve(1024);
  AppendJsonText(out, value);
  return out;
}

std::string JsonText(const json::object& object) {
  std::string out;
  out.reserve(1024);
  AppendObject(out, object);
  return out;
}

std::string JsonText(const json::array& array) {
  std::string out;
  out.reserve(1024);
  AppendArray(out, array);
  return out;
}

}  // namespace sluice
