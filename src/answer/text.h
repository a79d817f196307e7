// Plain-text helpers for mixed English and Russian UTF-8: case folding for keyword matching,
// word and sentence splitting, and UTF-8-safe truncation. No locale is consulted: the server's
// locale must not change what the answer engine says.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::answer {

// Lowercases ASCII, Latin-1 and Cyrillic letters, folds "ё" into "е" and drops apostrophes
// ("can't" -> "cant"), so that keyword tables can be written once in lowercase.
// Invalid UTF-8 bytes pass through unchanged.
std::string NormalizeForMatch(std::string_view text);

// The words of `text` (letters and digits; Latin, Latin-1 and Cyrillic), normalized as by
// NormalizeForMatch, in order.
std::vector<std::string> SplitWords(std::string_view text);

// Sentences of `text`, trimmed, in order. A sentence ends at . ! ? … followed by a space and
// not by a lowercase letter or a digit, except after a known abbreviation ("No.", "e.g.",
// "г.", "руб."), and at a line break that starts a new item (blank line, bullet, capital).
std::vector<std::string> SplitSentences(std::string_view text);

// Counts per script, in code points.
struct ScriptCounts {
  std::size_t ascii = 0;     // bytes < 0x80 (letters, digits, spaces, punctuation)
  std::size_t cyrillic = 0;  // U+0400..U+04FF
  std::size_t other = 0;     // any other code point
};
ScriptCounts CountScripts(std::string_view text);

// True when Cyrillic letters outnumber Latin ones.
bool MostlyCyrillic(std::string_view text);

// Number of UTF-8 code points.
std::size_t CodePointCount(std::string_view text);

// The first `max_code_points` code points of `text`, never splitting one.
std::string TruncateCodePoints(std::string_view text, std::size_t max_code_points);

// `text` with its first letter in upper case (ASCII and Cyrillic).
std::string CapitalizeFirst(std::string_view text);

// Trims ASCII whitespace and NBSP from both ends.
std::string_view Trim(std::string_view text);

}  // namespace sluice::answer
