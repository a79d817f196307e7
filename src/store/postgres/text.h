// PostgreSQL text values: what a text parameter may hold, and array literals, which carry a whole
// batch (every job of a submit, every event of a transaction) in one parameter per column so
// that one statement writes them all.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::pg {

// `text` with every NUL byte and every invalid UTF-8 sequence replaced by U+FFFD: PostgreSQL
// text refuses both, and one bad byte from a provider's error message must not fail a whole
// transaction. Valid text (the common case) comes back unchanged.
std::string ValidText(std::string_view text);

// Appends `text` to `out` made valid as by ValidText.
void AppendValidText(std::string& out, std::string_view text);

// Builds the text form of a one-dimensional array ({"a","b",NULL,3}) for a parameter cast to
// text[], bigint[], double precision[], ... in the SQL.
class TextArray {
 public:
  TextArray& add(std::string_view text);
  TextArray& add(const char* text) { return add(std::string_view(text)); }
  TextArray& add(std::int64_t value);
  TextArray& add(int value) { return add(static_cast<std::int64_t>(value)); }
  TextArray& add(double value);
  TextArray& add(bool value);
  TextArray& add_null();

  bool empty() const { return count_ == 0; }
  std::string str() const { return out_ + "}"; }

 private:
  void separate();
  std::string out_ = "{";
  std::size_t count_ = 0;
};

// The shortest text that reads back as exactly `value`.
std::string DoubleText(double value);

}  // namespace sluice::pg
