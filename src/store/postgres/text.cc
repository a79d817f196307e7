#include "store/postgres/text.h"

#include <charconv>

namespace sluice::pg {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence (without NUL) at the start of `s`, or 0 when there is none.
std::size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char b = byte(0);
  if (b == 0) return 0;
  if (b < 0x80) return 1;
  if (b >= 0xC2 && b <= 0xDF) return continuation(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (b == 0xED && byte(1) >= 0xA0) return 0;  // UTF-16 surrogate
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (b == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

bool IsValidText(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if (c != 0 && c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = Utf8SequenceLength(text.substr(i));
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
    std::size_t n = Utf8SequenceLength(text);
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

TextArray& TextArray::add(const std::optional<std::int64_t>& value) {
  return value ? add(*value) : add_null();
}

TextArray& TextArray::add(const std::optional<double>& value) {
  return value ? add(*value) : add_null();
}

TextArray& TextArray::add_null() {
  separate();
  out_ += "NULL";
  return *this;
}

}  // namespace sluice::pg
