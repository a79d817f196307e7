#include "store/postgres/text.h"

#include <charconv>

#include "core/utf8.h"

namespace sluice::pg {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence at the start of `s`, or 0 when there is none. NUL counts as
// invalid here: PostgreSQL text cannot hold it.
std::size_t StorableSequenceLength(std::string_view s) {
  return !s.empty() && s[0] == '\0' ? 0 : Utf8SequenceLength(s);
}

bool IsValidText(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c != 0 && c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = StorableSequenceLength(text.substr(i));
    if (n == 0) return false;
    i += n;
  }
  return true;
}

}  // namespace

void AppendValidText(std::string& out, std::string_view text) {
  if (IsValidText(text)) {
    out.append(text);
    return;
  }
  while (!text.empty()) {
    std::size_t n = StorableSequenceLength(text);
    if (n == 0) {
      out.append(kReplacement);
      n = 1;
    } else {
      out.append(text.data(), n);
    }
    text.remove_prefix(n);
  }
}

std::string ValidText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  AppendValidText(out, text);
  return out;
}

std::string DoubleText(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

void TextArray::separate() {
  if (count_++ > 0) out_ += ',';
}

TextArray& TextArray::add(std::string_view text) {
  separate();
  out_ += '"';
  std::string valid;
  std::string_view safe = text;
  if (!IsValidText(text)) {
    valid = ValidText(text);
    safe = valid;
  }
  for (char c : safe) {
    if (c == '"' || c == '\\') out_ += '\\';
    out_ += c;
  }
  out_ += '"';
  return *this;
}

TextArray& TextArray::add(std::int64_t value) {
  separate();
  out_ += std::to_string(value);
  return *this;
}

TextArray& TextArray::add(double value) {
  separate();
  out_ += DoubleText(value);
  return *this;
}

TextArray& TextArray::add(bool value) {
  separate();
  out_ += value ? "t" : "f";
  return *this;
}

TextArray& TextArray::add_null() {
  separate();
  out_ += "NULL";
  return *this;
}

}  // namespace sluice::pg
