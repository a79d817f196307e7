#include "store/event_data.h"

#include <cstdio>

#include "core/utf8.h"

namespace sluice {


void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  while (!text.empty()) {
    unsigned char c = static_cast<unsigned char>(text[0]);
    std::size_t n = Utf8SequenceLength(text);
    if (n == 0) {
      out += "\\ufffd";
      n = 1;
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
      out += escaped;
    } else {
      out.append(text.data(), n);
    }
    text.remove_prefix(n);
  }
  out += '"';
}

void EventData::key(std::string_view key) {
  if (out_.size() > 1) out_ += ',';
  AppendJsonString(out_, key);
  out_ += ':';
}

EventData& EventData::add(std::string_view name, std::int64_t value) {
  key(name);
  out_ += std::to_string(value);
  return *this;
}

EventData& EventData::add(std::string_view name, std::string_view value) {
  key(name);
  AppendJsonString(out_, value);
  return *this;
}

EventData& EventData::add_time(std::string_view name, Millis value) {
  return add(name, FormatRfc3339(value));
}

EventData& EventData::add_error(const JobError& error) {
  key("error");
  out_ += "{\"code\":";
  AppendJsonString(out_, error.code);
  out_ += ",\"message\":";
  AppendJsonString(out_, error.message);
  out_ += '}';
  return *this;
}

}  // namespace sluice
