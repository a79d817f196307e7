#include "answer/patterns.h"

#include <re2/re2.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <functional>

#include "answer/text.h"

namespace sluice::answer {
namespace {

using Groups = std::vector<re2::StringPiece>;

// Compiles once; RE2 objects are thread-safe for matching. A pattern that fails to compile is
// a bug in this file, so it crashes at first use rather than silently matching nothing.
const RE2& Compile(const char* pattern) {
  auto* re = new RE2(pattern);  // intentionally leaked: lives for the whole process
  if (!re->ok()) {
    std::fprintf(stderr, "answer/patterns: bad regex %s: %s\n", pattern, re->error().c_str());
    std::abort();
  }
  return *re;
}

// Calls fn for every non-overlapping match of re in text. RE2 sees the whole text as context,
// so \b and ^ behave at the resume point as they do in the text.
void ForEachMatch(const RE2& re, std::string_view text, const std::function<void(const Groups&)>& fn) {
  re2::StringPiece sp(text.data(), text.size());
  Groups groups(static_cast<std::size_t>(re.NumberOfCapturingGroups()) + 1);
  std::size_t pos = 0;
  while (pos <= sp.size() &&
         re.Match(sp, pos, sp.size(), RE2::UNANCHORED, groups.data(), static_cast<int>(groups.size()))) {
    fn(groups);
    std::size_t end = static_cast<std::size_t>(groups[0].data() - sp.data()) + groups[0].size();
    pos = end > pos ? end : pos + 1;
  }
}

std::size_t OffsetOf(std::string_view text, const re2::StringPiece& piece) {
  return static_cast<std::size_t>(piece.data() - text.data());
}

std::string_view View(const re2::StringPiece& piece) { return {piece.data(), piece.size()}; }

int ToInt(const re2::StringPiece& piece) {
  int value = 0;
  std::from_chars(piece.data(), piece.data() + piece.size(), value);
  return value;
}

// Keeps matches in text order; of overlapping ones, the earlier (then the longer) wins.
template <typename T, typename SpanOf>
void SortAndDropOverlaps(std::vector<T>& items, SpanOf span_of) {
  std::stable_sort(items.begin(), items.end(), [&](const T& a, const T& b) {
    const Found& fa = span_of(a);
    const Found& fb = span_of(b);
    if (fa.offset != fb.offset) return fa.offset < fb.offset;
    return fa.text.size() > fb.text.size();
  });
  std::vector<T> kept;
  std::size_t covered_until = 0;
  for (T& item : items) {
    const Found& f = span_of(item);
    if (!kept.empty() && f.offset < covered_until) continue;
    covered_until = f.offset + f.text.size();
    kept.push_back(std::move(item));
  }
  items = std::move(kept);
}

void SortFound(std::vector<Found>& items) {
  SortAndDropOverlaps(items, [](const Found& f) -> const Found& { return f; });
}

bool Overlaps(const Found& a, const Found& b) {
  return a.offset < b.offset + b.text.size() && b.offset < a.offset + a.text.size();
}

// ---- dates ----

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

bool ValidDate(int y, int m, int d) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || y > 2199 || m < 1 || m > 12 || d < 1) return false;
  int days = kDays[static_cast<std::size_t>(m - 1)] + (m == 2 && IsLeap(y) ? 1 : 0);
  return d <= days;
}

void AddDate(std::vector<Found>& out, std::string_view text, const re2::StringPiece& span, int y,
             int m, int d) {
  if (!ValidDate(y, m, d)) return;
  char iso[48];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02d", y, m, d);
  out.push_back({std::string(View(span)), iso, OffsetOf(text, span)});
}

// Month number from an English or Russian month name (any case, any Russian ending).
int MonthFromName(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kEnglish = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  static constexpr std::array<std::string_view, 12> kRussian = {
      "янв", "фев", "мар", "апр", "ма", "июн", "июл", "авг", "сен", "окт", "ноя", "дек"};
  std::string lower = NormalizeForMatch(name);
  for (std::size_t i = 0; i < 12; ++i) {
    if (lower.rfind(kEnglish[i], 0) == 0 || lower.rfind(kRussian[i], 0) == 0) {
      return static_cast<int>(i) + 1;
    }
  }
  return 0;
}

#define SLUICE_EN_MONTHS                                                                       \
  "(?:january|february|march|april|may|june|july|august|september|october|november|december|" \
  "jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)"

// ---- amounts ----

#define SLUICE_AMOUNT_NUMBER \
  "(\\d{1,3}(?:[.,\\x{00A0}\\x{202F} '\\x{2019}]\\d{3})+(?:[.,]\\d{1,2})?|\\d+(?:[.,]\\d{1,2})?)"

std::string CurrencyCode(std::string_view token) {
  std::string t = NormalizeForMatch(token);
  auto starts = [&](std::string_view p) { return t.rfind(p, 0) == 0; };
  if (starts("руб") || starts("р.") || starts("\u20BD") || starts("rub") || starts("roub")) return "RUB";
  if (starts("$") || starts("usd") || starts("dollar") || starts("долл")) return "USD";
  if (starts("\u20AC") || starts("eur") || starts("евро")) return "EUR";
  if (starts("\u00A3") || starts("gbp") || starts("pound")) return "GBP";
  if (starts("\u00A5") || starts("jpy")) return "JPY";
  std::string code(token);
  for (char& c : code) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
  return code;
}

void AddAmount(std::vector<Amount>& out, std::string_view text, const re2::StringPiece& span,
               const re2::StringPiece& number, const re2::StringPiece& currency_token) {
  double value = 0;
  if (!ParseAmountNumber(View(number), &value)) return;
  Amount a;
  a.value = value;
  a.currency = CurrencyCode(View(currency_token));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", value);
  a.found = {std::string(Trim(View(span))), std::string(buf) + " " + a.currency, OffsetOf(text, span)};
  out.push_back(std::move(a));
}

// ---- phones ----

std::string DigitsOf(std::string_view s) {
  std::string digits;
  for (char c : s) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits;
}

// Cheap necessary conditions checked before a regex search, so that a text that cannot match
// (most tickets have no year, no email, no "+") is not scanned at all. Each must hold for
// every match of the regexes it guards (\d in RE2 is ASCII 0-9).
bool HasDigitRun(std::string_view text, std::size_t n) {
  std::size_t run = 0;
  for (char c : text) {
    run = c >= '0' && c <= '9' ? run + 1 : 0;
    if (run >= n) return true;
  }
  return false;
}

bool Has(std::string_view text, char c) { return text.find(c) != std::string_view::npos; }

}  // namespace

std::vector<Found> FindDates(std::string_view text) {
  static const RE2& iso = Compile("\\b((\\d{4})-(\\d{1,2})-(\\d{1,2}))(?:[^\\d]|$)");
  static const RE2& numeric = Compile("\\b((\\d{1,2})([./])(\\d{1,2})([./])(\\d{4}))\\b");
  static const RE2& month_first = Compile("(?i)\\b((" SLUICE_EN_MONTHS
                                          ")\\.?\\s+(\\d{1,2})(?:st|nd|rd|th)?,?\\s+(\\d{4}))\\b");
  static const RE2& day_first = Compile("(?i)\\b((\\d{1,2})(?:st|nd|rd|th)?\\s+(?:of\\s+)?(" SLUICE_EN_MONTHS
                                        ")\\.?,?\\s+(\\d{4}))\\b");
  static const RE2& russian = Compile(
      "(?i)(?:^|[^\\pL\\d])((\\d{1,2})\\s+(январ[яь]|феврал[яь]|марта?|апрел[яь]|ма[яй]|июн[яь]|"
      "июл[яь]|августа?|сентябр[яь]|октябр[яь]|ноябр[яь]|декабр[яь])\\s+(\\d{4}))\\b");
  std::vector<Found> out;
  if (!HasDigitRun(text, 4)) return out;  // every date pattern ends in a four-digit year
  ForEachMatch(iso, text, [&](const Groups& g) {
    AddDate(out, text, g[1], ToInt(g[2]), ToInt(g[3]), ToInt(g[4]));
  });
  ForEachMatch(numeric, text, [&](const Groups& g) {
    if (View(g[3]) != View(g[5])) return;  // "03.11/2026" is not a date
    int a = ToInt(g[2]);
    int b = ToInt(g[4]);
    int y = ToInt(g[6]);
    bool us_order = View(g[3]) == "/" && a <= 12;  // dots are day-first; slashes US unless day > 12
    if (us_order) {
      AddDate(out, text, g[1], y, a, b);
    } else {
      AddDate(out, text, g[1], y, b, a);
    }
  });
  ForEachMatch(month_first, text, [&](const Groups& g) {
    AddDate(out, text, g[1], ToInt(g[4]), MonthFromName(View(g[2])), ToInt(g[3]));
  });
  ForEachMatch(day_first, text, [&](const Groups& g) {
    AddDate(out, text, g[1], ToInt(g[4]), MonthFromName(View(g[3])), ToInt(g[2]));
  });
  ForEachMatch(russian, text, [&](const Groups& g) {
    AddDate(out, text, g[1], ToInt(g[4]), MonthFromName(View(g[3])), ToInt(g[2]));
  });
  SortFound(out);
  return out;
}

std::vector<Amount> FindAmounts(std::string_view text) {
  static const RE2& symbol_first = Compile(
      "(([$\\x{20AC}\\x{00A3}\\x{20BD}\\x{00A5}])\\s?" SLUICE_AMOUNT_NUMBER ")");
  static const RE2& code_first = Compile(
      "\\b((USD|EUR|RUB|GBP|CHF|JPY|CNY|KZT|UAH|BYN|AED|TRY)\\s?" SLUICE_AMOUNT_NUMBER ")");
  static const RE2& number_first = Compile(
      "(?i)\\b(" SLUICE_AMOUNT_NUMBER
      "\\s?(руб\\pL*\\.?|р\\.|\\x{20BD}|\\x{20AC}|\\$|\\x{00A3}|USD\\b|EUR\\b|RUB\\b|GBP\\b|CHF\\b|"
      "JPY\\b|CNY\\b|KZT\\b|UAH\\b|евро|долл\\pL*|dollars?\\b|euros?\\b|pounds?\\b|rubles?\\b|"
      "roubles?\\b))");
  std::vector<Amount> out;
  ForEachMatch(symbol_first, text, [&](const Groups& g) { AddAmount(out, text, g[1], g[3], g[2]); });
  ForEachMatch(code_first, text, [&](const Groups& g) { AddAmount(out, text, g[1], g[3], g[2]); });
  ForEachMatch(number_first, text, [&](const Groups& g) { AddAmount(out, text, g[1], g[2], g[3]); });
  SortAndDropOverlaps(out, [](const Amount& a) -> const Found& { return a.found; });
  return out;
}

std::vector<Found> FindPhones(std::string_view text) {
  return FindPhones(text, FindIbans(text), FindDates(text));
}

std::vector<Found> FindPhones(std::string_view text, const std::vector<Found>& ibans,
                              const std::vector<Found>& dates) {
  static const RE2& international =
      Compile("(\\+\\d{1,3}(?:[ \\-.]?\\(?\\d{1,4}\\)?)(?:[ \\-.]?\\d{1,4}){2,5})");
  static const RE2& russian_eight =
      Compile("\\b(8[ \\-]?\\(?\\d{3}\\)?[ \\-]?\\d{3}[ \\-]?\\d{2}[ \\-]?\\d{2})\\b");
  static const RE2& us_parens = Compile("(\\(\\d{3}\\) ?\\d{3}[ \\-.]\\d{4})\\b");
  static const RE2& us_dashes = Compile("\\b(\\d{3}[\\-.]\\d{3}[\\-.]\\d{4})\\b");
  std::vector<Found> out;
  if (Has(text, '+')) ForEachMatch(international, text, [&](const Groups& g) {
    std::string digits = DigitsOf(View(g[1]));
    if (digits.size() < 8 || digits.size() > 15) return;
    out.push_back({std::string(View(g[1])), "+" + digits, OffsetOf(text, g[1])});
  });
  if (Has(text, '8')) ForEachMatch(russian_eight, text, [&](const Groups& g) {
    std::string digits = DigitsOf(View(g[1]));
    out.push_back({std::string(View(g[1])), "+7" + digits.substr(1), OffsetOf(text, g[1])});
  });
  auto add_us = [&](const Groups& g) {
    out.push_back({std::string(View(g[1])), "+1" + DigitsOf(View(g[1])), OffsetOf(text, g[1])});
  };
  if (Has(text, '(')) ForEachMatch(us_parens, text, add_us);
  if (HasDigitRun(text, 4)) ForEachMatch(us_dashes, text, add_us);
  // Digits inside an IBAN or a date are not a phone number.
  auto taken_by = [&](const Found& phone, const std::vector<Found>& taken) {
    return std::any_of(taken.begin(), taken.end(), [&](const Found& t) { return Overlaps(phone, t); });
  };
  std::erase_if(out, [&](const Found& phone) { return taken_by(phone, ibans) || taken_by(phone, dates); });
  SortFound(out);
  return out;
}

std::vector<Found> FindEmails(std::string_view text) {
  static const RE2& email =
      Compile("\\b([A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,})\\b");
  std::vector<Found> out;
  if (!Has(text, '@')) return out;
  ForEachMatch(email, text, [&](const Groups& g) {
    out.push_back({std::string(View(g[1])), NormalizeForMatch(View(g[1])), OffsetOf(text, g[1])});
  });
  return out;
}

bool IbanChecksumValid(std::string_view compact) {
  if (compact.size() < 15 || compact.size() > 34) return false;
  std::string rearranged = std::string(compact.substr(4)) + std::string(compact.substr(0, 4));
  int remainder = 0;
  for (char c : rearranged) {
    int v = 0;
    if (c >= '0' && c <= '9') {
      v = c - '0';
      remainder = (remainder * 10 + v) % 97;
    } else if (c >= 'A' && c <= 'Z') {
      v = c - 'A' + 10;
      remainder = (remainder * 100 + v) % 97;
    } else {
      return false;
    }
  }
  return remainder == 1;
}

std::vector<Found> FindIbans(std::string_view text) {
  static const RE2& candidate = Compile("\\b([A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30})");
  std::vector<Found> out;
  ForEachMatch(candidate, text, [&](const Groups& g) {
    std::string_view raw = View(g[1]);
    // A greedy match may run into a following code ("... 32 EUR"): shorten from the end
    // until the checksum holds.
    while (raw.size() >= 15) {
      std::string compact;
      for (char c : raw) {
        if (c != ' ') compact += c;
      }
      if (IbanChecksumValid(compact)) {
        out.push_back({std::string(raw), compact, OffsetOf(text, g[1])});
        return;
      }
      raw.remove_suffix(1);
      while (!raw.empty() && raw.back() == ' ') raw.remove_suffix(1);
    }
  });
  return out;
}

std::vector<Found> FindContractNumbers(std::string_view text) {
  static const RE2& keyword_marker = Compile(
      "(?i)((?:contract|agreement|договор\\pL*|контракт\\pL*|соглашени\\pL*)[ \\t]*"
      "(?:no\\.?|nr\\.?|number|num\\.?|#|№)[ \\t]*((?:[A-Z]{1,5}[-/])?\\d[\\dA-Z\\-/]*))");
  static const RE2& keyword_only = Compile(
      "(?i)((?:contract|agreement|договор\\pL*|контракт\\pL*)[ \\t]+"
      "([A-Z]{1,5}-\\d[\\dA-Z\\-/]*|\\d+[-/][\\dA-Z\\-/]*\\d|\\d{3,}))");
  static const RE2& marker_only = Compile(
      "((?:\\b[Nn][Oo]\\.|№|\\b[Nn]r\\.)[ \\t]*((?:[A-Z]{1,5}[-/])?\\d[\\dA-Z\\-/]*))");
  std::vector<Found> out;
  for (const RE2* re : {&keyword_marker, &keyword_only, &marker_only}) {
    ForEachMatch(*re, text, [&](const Groups& g) {
      std::string_view number = View(g[2]);
      std::string_view span = View(g[1]);
      while (!number.empty() && (number.back() == '-' || number.back() == '/')) {
        number.remove_suffix(1);
        span.remove_suffix(1);
      }
      if (number.empty()) return;
      std::string normalized(number);
      for (char& c : normalized) c = static_cast<char>(c >= 'a' && c <= 'z' ? c - 32 : c);
      out.push_back({std::string(span), normalized, OffsetOf(text, g[1])});
    });
  }
  SortFound(out);
  return out;
}

std::vector<Found> FindParties(std::string_view text) {
  static const RE2& russian_quoted = Compile(
      "(?:^|[^\\pL])((?:ООО|ОАО|ПАО|ЗАО|АО|ИП|НКО|ТОО)[ \\t]*[«\"“„]([^»\"”“\\n]{1,80})[»\"”“])");
  static const RE2& russian_plain = Compile(
      "(?:^|[^\\pL])((?:ООО|ОАО|ПАО|ЗАО|АО|ИП)[ \\t]+[А-ЯЁ][\\pL\\-]+(?:[ \\t]+[А-ЯЁ][\\pL\\-]+){0,2})");
  static const RE2& english = Compile(
      "\\b((?:[A-Z][A-Za-z0-9&\\-]*[ \\t]+){0,2}[A-Z][A-Za-z0-9&\\-]*,?[ \\t]+"
      "(?:LLC\\b|L\\.L\\.C\\.|Ltd\\b\\.?|Limited\\b|Inc\\b\\.?|Corp\\b\\.?|Corporation\\b|GmbH\\b|"
      "PLC\\b|AG\\b|LLP\\b|Co\\.))");
  std::vector<Found> out;
  for (const RE2* re : {&russian_quoted, &russian_plain, &english}) {
    ForEachMatch(*re, text, [&](const Groups& g) {
      std::string name(Trim(View(g[1])));
      out.push_back({name, name, OffsetOf(text, g[1])});
    });
  }
  SortFound(out);
  return out;
}

bool ParseAmountNumber(std::string_view text, double* value) {
  std::string s;
  for (std::size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c >= '0' && c <= '9') || c == '.' || c == ',') s += static_cast<char>(c);
  }
  if (s.empty()) return false;
  std::size_t last_dot = s.rfind('.');
  std::size_t last_comma = s.rfind(',');
  auto count = [&](char ch) { return std::count(s.begin(), s.end(), ch); };
  char decimal = 0;
  if (last_dot != std::string::npos && last_comma != std::string::npos) {
    decimal = last_dot > last_comma ? '.' : ',';
  } else if (last_dot != std::string::npos || last_comma != std::string::npos) {
    char sep = last_dot != std::string::npos ? '.' : ',';
    std::size_t at = std::max(last_dot == std::string::npos ? 0 : last_dot,
                              last_comma == std::string::npos ? 0 : last_comma);
    bool thousands = count(sep) > 1 || s.size() - at - 1 == 3;
    decimal = thousands ? 0 : sep;
  }
  std::string plain;
  for (char c : s) {
    if (c == decimal) {
      plain += '.';
    } else if (c >= '0' && c <= '9') {
      plain += c;
    }
  }
  auto [ptr, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), *value);
  return ec == std::errc() && ptr == plain.data() + plain.size();
}

}  // namespace sluice::answer
