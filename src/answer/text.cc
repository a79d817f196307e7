#include "answer/text.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sluice::answer {
namespace {

struct Decoded {
  char32_t cp = 0;
  std::size_t len = 1;
  bool valid = false;
};

// Decodes one UTF-8 sequence at text[i]. An invalid or truncated sequence decodes as its
// first byte, length 1, so callers can copy it through and move on.
Decoded DecodeAt(std::string_view text, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(text[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t len = 0;
  char32_t cp = 0;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07;
  } else {
    return {b0, 1, false};
  }
  if (i + len > text.size()) return {b0, 1, false};
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(text[i + k]);
    if ((b & 0xC0) != 0x80) return {b0, 1, false};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, len, true};
}

void AppendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

char32_t ToLower(char32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp >= 0xC0 && cp <= 0xDE && cp != 0xD7) return cp + 32;  // Latin-1 capitals
  if (cp >= 0x410 && cp <= 0x42F) return cp + 32;               // А..Я
  if (cp >= 0x400 && cp <= 0x40F) return cp + 80;               // Ѐ..Џ
  return cp;
}

// Folds "ё" into "е": Russian text writes either, keyword tables use "е".
char32_t FoldForMatch(char32_t cp) {
  cp = ToLower(cp);
  return cp == 0x451 ? 0x435 : cp;
}

bool IsApostrophe(char32_t cp) { return cp == '\'' || cp == 0x2019; }

bool IsWordChar(char32_t cp) {
  if ((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9')) return true;
  if (cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7) return true;  // Latin letters
  return cp >= 0x400 && cp <= 0x4FF;                                          // Cyrillic
}

bool IsUpper(char32_t cp) {
  return (cp >= 'A' && cp <= 'Z') || (cp >= 0x410 && cp <= 0x42F) || (cp >= 0x400 && cp <= 0x40F);
}
bool IsLower(char32_t cp) {
  return (cp >= 'a' && cp <= 'z') || (cp >= 0x430 && cp <= 0x45F);
}
bool IsDigit(char32_t cp) { return cp >= '0' && cp <= '9'; }
bool IsSpace(char32_t cp) {
  return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == '\f' || cp == '\v' ||
         cp == 0xA0 || cp == 0x202F;
}

// Abbreviations after which a period never ends a sentence: they precede a name or a number.
constexpr std::array<std::string_view, 28> kNeverEndAbbreviations = {
    "no", "nr", "mr", "mrs", "ms", "dr", "st", "vs", "prof", "tel", "fig", "eg", "ie", "cf",
    "approx", "ref", "ул", "тел", "им", "стр", "см", "пр", "кв", "обл", "просп", "рис", "ст", "п"};

std::string LastWordBefore(std::string_view text, std::size_t end) {
  std::size_t start = end;
  while (start > 0) {
    std::size_t p = start - 1;
    while (p > 0 && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) --p;
    if (!IsWordChar(DecodeAt(text, p).cp)) break;
    start = p;
  }
  return NormalizeForMatch(text.substr(start, end - start));
}

bool IsNeverEndAbbreviation(const std::string& word) {
  if (CodePointCount(word) == 1) return true;  // an initial: "J. Smith", "г. Москва"
  return std::find(kNeverEndAbbreviations.begin(), kNeverEndAbbreviations.end(), word) !=
         kNeverEndAbbreviations.end();
}

bool IsClosing(char32_t cp) {
  return cp == '"' || cp == ')' || cp == '\'' || cp == 0xBB || cp == 0x201D || cp == 0x2019;
}
bool IsTerminator(char32_t cp) { return cp == '.' || cp == '!' || cp == '?' || cp == 0x2026; }

void SplitParagraph(std::string_view para, std::vector<std::string>& out) {
  std::size_t start = 0;
  std::size_t i = 0;
  while (i < para.size()) {
    Decoded d = DecodeAt(para, i);
    if (!IsTerminator(d.cp)) {
      i += d.len;
      continue;
    }
    const std::size_t term_start = i;
    bool single_period = d.cp == '.';
    std::size_t j = i + d.len;
    while (j < para.size()) {
      Decoded n = DecodeAt(para, j);
      if (!IsTerminator(n.cp) && !IsClosing(n.cp)) break;
      if (IsTerminator(n.cp)) single_period = false;
      j += n.len;
    }
    i = j;
    if (j < para.size() && !IsSpace(DecodeAt(para, j).cp)) continue;  // "1.5", "e.g.x"
    std::size_t k = j;
    while (k < para.size() && IsSpace(DecodeAt(para, k).cp)) k += DecodeAt(para, k).len;
    if (k < para.size()) {
      char32_t next = DecodeAt(para, k).cp;
      if (IsLower(next)) continue;
      if (single_period && IsDigit(next)) continue;  // "No. 2024-117", "p. 5"
      if (single_period && IsNeverEndAbbreviation(LastWordBefore(para, term_start))) continue;
    }
    std::string_view sentence = Trim(para.substr(start, j - start));
    if (!sentence.empty()) out.emplace_back(sentence);
    start = j;
  }
  std::string_view rest = Trim(para.substr(start));
  if (!rest.empty()) out.emplace_back(rest);
}

// Strips a leading list marker ("- ", "* ", "• ", "1. ", "2) ").
std::string_view StripBullet(std::string_view line) {
  line = Trim(line);
  for (std::string_view marker : {"- ", "* ", "\xE2\x80\xA2 ", "\xE2\x80\x93 ", "\xE2\x80\x94 "}) {
    if (line.substr(0, marker.size()) == marker) return Trim(line.substr(marker.size()));
  }
  std::size_t digits = 0;
  while (digits < line.size() && digits < 3 && IsDigit(line[digits])) ++digits;
  if (digits > 0 && digits + 1 < line.size() && (line[digits] == '.' || line[digits] == ')') &&
      line[digits + 1] == ' ') {
    return Trim(line.substr(digits + 2));
  }
  return line;
}

bool StartsNewItem(std::string_view raw_line) {
  std::string_view line = Trim(raw_line);
  if (line.empty()) return true;
  if (StripBullet(line).size() != line.size()) return true;
  Decoded d = DecodeAt(line, 0);
  return IsUpper(d.cp) || IsDigit(d.cp);
}

// A line that ends what it says: terminal punctuation, or a short line of its own such as a
// salutation ("hey", "Dear Sir or Madam,") or a sign-off ("Best regards,").
bool EndsItem(std::string_view line) {
  line = Trim(line);
  if (line.empty()) return true;
  char last = line.back();
  if (last == '.' || last == '!' || last == '?' || last == ':' || last == ';') return true;
  std::size_t words = SplitWords(line).size();
  return words <= 2 || (last == ',' && words <= 4);
}

// A line that is only a markup tag ("<ticket>", "</document>"): prompt scaffolding, not text.
bool IsTagLine(std::string_view line) {
  line = Trim(line);
  return line.size() >= 3 && line.front() == '<' && line.back() == '>' &&
         line.find_first_of(" <>", 1) == line.size() - 1;
}

}  // namespace

std::string NormalizeForMatch(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    if (!d.valid) {
      out += text[i];
    } else if (!IsApostrophe(d.cp)) {
      AppendUtf8(out, FoldForMatch(d.cp));
    }
    i += d.len;
  }
  return out;
}

std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (std::size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    i += d.len;
    if (d.valid && IsWordChar(d.cp)) {
      AppendUtf8(current, FoldForMatch(d.cp));
    } else if (d.valid && IsApostrophe(d.cp) && !current.empty()) {
      // "can't" stays one word: the apostrophe is dropped, the word goes on.
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

std::vector<std::string> SplitSentences(std::string_view text) {
  // Lines are first joined into paragraphs: a wrapped line continues its sentence, a blank
  // line, a bullet or a line after a finished sentence starts a new one.
  std::vector<std::string> paragraphs;
  std::string current;
  std::string_view previous_line;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    if (IsTagLine(line)) line = {};
    bool blank = Trim(line).empty();
    if (blank || current.empty() || EndsItem(previous_line) || StartsNewItem(line)) {
      if (!current.empty()) paragraphs.push_back(std::move(current));
      current.clear();
    } else {
      current += ' ';
    }
    if (!blank) current += StripBullet(line);
    previous_line = line;
    pos = eol + 1;
  }
  if (!current.empty()) paragraphs.push_back(std::move(current));

  std::vector<std::string> sentences;
  for (const std::string& para : paragraphs) SplitParagraph(para, sentences);
  return sentences;
}

ScriptCounts CountScripts(std::string_view text) {
  ScriptCounts counts;
  for (std::size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    i += d.len;
    if (d.cp < 0x80) {
      ++counts.ascii;
    } else if (d.cp >= 0x400 && d.cp <= 0x4FF) {
      ++counts.cyrillic;
    } else {
      ++counts.other;
    }
  }
  return counts;
}

bool MostlyCyrillic(std::string_view text) {
  std::size_t latin = 0;
  std::size_t cyrillic = 0;
  for (std::size_t i = 0; i < text.size();) {
    Decoded d = DecodeAt(text, i);
    i += d.len;
    if ((d.cp >= 'a' && d.cp <= 'z') || (d.cp >= 'A' && d.cp <= 'Z')) ++latin;
    if (d.cp >= 0x400 && d.cp <= 0x4FF) ++cyrillic;
  }
  return cyrillic > latin;
}

std::size_t CodePointCount(std::string_view text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); i += DecodeAt(text, i).len) ++n;
  return n;
}

std::string TruncateCodePoints(std::string_view text, std::size_t max_code_points) {
  std::size_t i = 0;
  for (std::size_t n = 0; i < text.size() && n < max_code_points; ++n) i += DecodeAt(text, i).len;
  return std::string(text.substr(0, i));
}

std::string CapitalizeFirst(std::string_view text) {
  std::string out(text);
  if (out.empty()) return out;
  Decoded d = DecodeAt(text, 0);
  char32_t upper = d.cp;
  if (d.cp >= 'a' && d.cp <= 'z') upper = d.cp - 32;
  if (d.cp >= 0x430 && d.cp <= 0x44F) upper = d.cp - 32;
  if (d.cp >= 0x450 && d.cp <= 0x45F) upper = d.cp - 80;
  if (upper == d.cp) return out;
  std::string first;
  AppendUtf8(first, upper);
  return first + out.substr(d.len);
}

std::string_view Trim(std::string_view text) {
  auto is_space_at_start = [&](std::size_t& len) {
    if (text.empty()) return false;
    Decoded d = DecodeAt(text, 0);
    len = d.len;
    return IsSpace(d.cp);
  };
  std::size_t len = 0;
  while (is_space_at_start(len)) text.remove_prefix(len);
  while (!text.empty()) {
    std::size_t p = text.size() - 1;
    while (p > 0 && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) --p;
    if (!IsSpace(DecodeAt(text, p).cp)) break;
    text.remove_suffix(text.size() - p);
  }
  return text;
}

}  // namespace sluice::answer
