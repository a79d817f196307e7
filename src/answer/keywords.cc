#include "answer/keywords.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "answer/text.h"

namespace sluice::answer {

namespace {

// A value group: enum value names that mean the same thing, and the cues that speak for it.
struct Group {
  std::vector<std::string> aliases;  // normalized: lowercase, '_' between words
  std::vector<Cue> cues;
};

const std::vector<Cue>& FraudCueTable() {
  static const std::vector<Cue> cues = {
      {"fraud", 5}, {"scam", 5}, {"stolen", 4}, {"stole", 4}, {"steal", 3}, {"unauthori", 4},
      {"didnt make", 3}, {"did not make", 3}, {"didnt authori", 3}, {"not authori", 3}, {"hack", 3},
      {"phishing", 4}, {"suspicious", 3}, {"someone else", 2}, {"someone", 1}, {"skimm", 4},
      {"pretend", 4}, {"dont recogni", 3}, {"didnt recogni", 3}, {"do not recogni", 3},
      {"didnt request", 2}, {"never applied", 3}, {"in my name", 2}, {"safe account", 4},
      {"security department", 3}, {"money is leaving", 3}, {"leaving my account", 3},
      {"gave&code", 3}, {"never shopped", 3}, {"lost my card", 3}, {"block the card", 2},
      {"freeze everything", 3}, {"мошен", 5}, {"украл", 4}, {"украд", 4}, {"краж", 4},
      {"похит", 4}, {"взлом", 3}, {"не соверш", 3}, {"не делал", 2}, {"подозрит", 3},
      {"неизвестн", 2}, {"без моего", 3}, {"злоумышл", 4}, {"фишинг", 4}, {"якобы", 4},
      {"продиктовал", 3}, {"не запрашивал", 2}, {"не подтвержд", 3}, {"на мое имя", 3},
      {"служб безопасност", 3}, {"уходят со", 3}, {"деньги уходят", 3}, {"идут списания", 3},
      {"а я дома", 3}, {"кто то", 2}, {"потерял карт", 3}, {"заблокируйте", 2}, {"заморозьте", 2},
      {"clicked&link", 4}, {"entered my card details", 3}, {"without my knowledge", 3},
      {"at home", 2}, {"перешл&ссылк", 4}, {"данные карт", 2}, {"оформили кредит", 4},
      {"не брал", 3}};
  return cues;
}

// Money at risk right now, or a customer cut off from their money; "не срочно" and "no rush"
// take it back.
const std::vector<Cue>& UrgencyCueTable() {
  static const std::vector<Cue> cues = {
      {"urgent", 3}, {"emergency", 3}, {"right now", 3}, {"as we speak", 3}, {"срочн", 3},
      {"немедленн", 2}, {"прямо сейчас", 3}, {"on the other line", 3}, {"экстренн", 3}, {"fraud", 3}, {"stolen", 3},
      {"stole", 3}, {"scam", 3}, {"unauthori", 3}, {"hack", 2}, {"мошен", 3}, {"украл", 3},
      {"украд", 3}, {"краж", 3}, {"взлом", 3}, {"not urgent", -9}, {"no rush", -9},
      {"не срочн", -9}, {"несрочн", -9}, {"не к спеху", -9}};
  return cues;
}

const std::vector<Group>& Groups() {
  static const std::vector<Group> groups = {
      {{"double_charge", "duplicate_charge", "double_payment", "charged_twice", "duplicate_transaction",
        "duplicate_payment", "double_debit"},
       {{"charg twice", 4}, {"charg two times", 4}, {"charg me twice", 4}, {"billed twice", 4},
        {"paid twice", 4}, {"debited twice", 4}, {"twice", 2}, {"two times", 2}, {"2 times", 4},
        {"double charg", 4}, {"doubl", 2}, {"duplicat", 3}, {"same transaction", 2},
        {"same payment", 2}, {"two identical", 4}, {"both payments", 3}, {"both charges", 3},
        {"paid again", 3}, {"charged again", 3}, {"paid once", 2}, {"only once", 2},
        {"single order", 2}, {"single purchase", 2}, {"charg", 1}, {"дважды", 4}, {"два раза", 4},
        {"2 раза", 4}, {"двойн", 3}, {"повторн спис", 4}, {"повторн оплат", 3}, {"повторно", 2},
        {"задвоен", 4}, {"задвоил", 4}, {"два одинаков", 4}, {"оба списания", 3},
        {"оба платеж", 3}, {"лишн спис", 3}, {"один раз", 2}, {"была одна", 2}, {"списа", 1}}},
      {{"missing_transfer", "transfer_missing", "transfer_not_received", "missing_payment", "lost_transfer",
        "transfer_issue", "transfer_problem", "transfer"},
       {{"transfer", 2}, {"wire", 1}, {"not receiv", 2}, {"didnt receiv", 2}, {"hasnt receiv", 2},
        {"havent receiv", 2}, {"not arriv", 2}, {"didnt arriv", 2}, {"hasnt arriv", 2},
        {"never arriv", 2}, {"not credit", 2}, {"never reach", 3}, {"didnt reach", 3},
        {"not reach", 2}, {"where is it", 2}, {"where is my money", 2}, {"stuck", 2},
        {"processing", 1}, {"missing", 1}, {"recipient", 1}, {"sent money", 2}, {"salary", 1},
        {"перевод", 3}, {"первод", 2}, {"перевел", 2}, {"не приш", 3}, {"не поступ", 3},
        {"не дош", 3}, {"не зачисл", 3}, {"не получил", 2}, {"получател", 1}, {"пропал", 1},
        {"отправил", 1}, {"завис", 2}, {"где мои деньги", 2}, {"зарплат", 2}, {"topped up", 3},
        {"top up", 2}, {"been credited", 2}, {"not there", 2}, {"left my account", 3}, {"пополнил", 3}}},
      {{"early_repayment", "loan", "loan_repayment", "repayment", "prepayment", "early_payoff",
        "loan_early_repayment", "loan_question", "credit", "mortgage", "loan_issue"},
       {{"early repay", 4}, {"repay", 3}, {"prepay", 3}, {"pay off", 3}, {"payoff", 3}, {"pay back", 2},
        {"loan", 3}, {"mortgage", 3}, {"close&credit", 3}, {"close&loan", 3}, {"installment", 1},
        {"досрочн", 4}, {"погас", 3}, {"погаш", 3}, {"кредит", 1}, {"ипотек", 3}, {"займ", 2},
        {"заем", 2}, {"рассрочк", 1}, {"закрыть кредит", 4}, {"раньше срока", 4}}},
      {{"card_blocked", "blocked_card", "card_block", "card_locked", "card_frozen", "card_issue",
        "card_problem", "card"},
       {{"card&blocked", 4}, {"card&locked", 2}, {"card&froz", 3}, {"card&declin", 3},
        {"card&suspend", 3}, {"card&not work", 2}, {"card&doesnt work", 2}, {"card&stopped working", 3},
        {"blocked", 1}, {"blokc", 2}, {"swallowed", 3}, {"карт&заблокирова", 4},
        {"карт&блокировк", 3}, {"карт&не работ", 2}, {"карт&отклон", 3}, {"карт&заморож", 3},
        {"карт&перестал", 2}, {"заблокирова", 1}, {"заблоок", 3}, {"забрал карт", 4},
        {"unblock", 4}, {"разблокир", 4}}},
      {{"login_problem", "login_issue", "login", "access_problem", "cannot_login", "auth_problem",
        "sign_in_problem", "authentication", "access", "account_access", "login_issues"},
       {{"log in", 3}, {"login", 3}, {"log into", 3}, {"logon", 2}, {"sign in", 3}, {"signin", 3},
        {"cant log", 4}, {"cannot log", 4}, {"unable to log", 4}, {"cant sign", 4},
        {"cannot sign", 4}, {"password", 2}, {"locked out", 3}, {"2fa", 2}, {"two factor", 2},
        {"verification code", 2}, {"sms code", 2}, {"access my account", 3}, {"let me in", 3},
        {"face id", 2}, {"не могу войти", 5}, {"не могу зайти", 5}, {"не удается войти", 5},
        {"не получается войти", 5}, {"не получается зайти", 5}, {"войти", 3}, {"зайти", 2},
        {"вход", 3}, {"логин", 3}, {"парол", 2}, {"личн кабинет", 2}, {"код&смс", 2},
        {"приложени", 1}, {"авторизац", 3}, {"не пускает", 3}, {"forgot&password", 4},
        {"reset link", 2}, {"забыл парол", 4}}},
      {{"phone_change", "change_phone", "phone_number_change", "update_phone", "change_phone_number",
        "phone_update", "contact_change", "change_number"},
       {{"chang&phone", 4}, {"chang&number", 2}, {"new phone", 3}, {"new number", 3},
        {"updat&phone", 3}, {"replace&number", 3}, {"contact number", 2}, {"phone number", 1},
        {"local number", 2}, {"смен номер", 5}, {"измен номер", 5}, {"поменя номер", 5},
        {"нов номер", 4}, {"замен&номер", 4}, {"номер телефон", 2}, {"контактн номер", 2},
        {"смен&телефон", 3}, {"измен&телефон", 3}, {"поменя&телефон", 3}, {"привяз", 1}}},
      {{"fraud", "fraud_report", "suspicious_activity", "unauthorized_transaction", "scam", "stolen_card",
        "fraudulent_transaction", "security"},
       FraudCueTable()},
      {{"high", "urgent", "critical", "p1", "highest", "asap", "blocker", "emergency", "immediate"},
       UrgencyCueTable()},
      {{"positive", "happy", "satisfied", "praise", "good"},
       {{"thank", 2}, {"great", 2}, {"excellent", 3}, {"love", 2}, {"happy", 2}, {"satisf", 2},
        {"awesome", 3}, {"perfect", 2}, {"appreciat", 2}, {"спасибо", 2}, {"благодар", 3},
        {"отличн", 3}, {"довол", 2}, {"хорош", 2}, {"супер", 2}}},
      {{"negative", "angry", "unhappy", "complaint", "dissatisfied", "bad"},
       {{"bad", 2}, {"terribl", 3}, {"awful", 3}, {"angry", 3}, {"unhappy", 3}, {"disappoint", 3},
        {"not satisf", 3}, {"dissatisf", 3}, {"complain", 2}, {"worst", 3}, {"unacceptabl", 3},
        {"frustrat", 3}, {"problem", 1}, {"плох", 2}, {"ужас", 3}, {"недовол", 3}, {"жалоб", 2},
        {"возмут", 3}, {"безобраз", 3}, {"проблем", 1}, {"кошмар", 3}, {"отврат", 3}, {"худш", 3}}},
  };
  return groups;
}

// Names of the value to fall back on when no cue speaks, best first.
constexpr std::string_view kFallbackNames[] = {
    "other",  "others",  "unknown", "general", "misc",     "miscellaneous", "none", "unclassified",
    "uncategorized", "neutral", "normal", "medium", "moderate", "прочее", "другое", "иное"};

constexpr std::string_view kEnglishCodes[] = {"en", "eng", "english", "английский"};
constexpr std::string_view kRussianCodes[] = {"ru", "rus", "russian", "русский"};

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) parts.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// One word of a cue phrase. `whole`: at one or two letters it must match a whole word, else it
// is a word prefix. Decided once per phrase, not per text word.
struct PatternWord {
  std::string text;
  bool whole = false;
  std::uint32_t key = 0;  // KeyOf(text)
};
using Phrase = std::vector<PatternWord>;

// A cue split into its '&' parts, each a phrase of pattern words.
struct CompiledCue {
  std::vector<Phrase> parts;
  int weight = 1;
};

}  // namespace

// Defined here, after the cue it holds; the header only names it.
class CompiledCues {
 public:
  std::vector<CompiledCue> cues;
};

namespace {

// The first two bytes of a word (one for a one-byte word). A word a pattern word matches, as a
// prefix or whole, starts with the same key: a pattern word of one byte is one code point, so
// it must match whole.
std::uint32_t KeyOf(std::string_view w) {
  const auto b0 = static_cast<unsigned char>(w[0]);
  const auto b1 = w.size() > 1 ? static_cast<unsigned char>(w[1]) : 0u;
  return (static_cast<std::uint32_t>(b0) << 8) | b1;
}

bool WordMatches(const std::string& word, const PatternWord& p) {
  if (p.whole) return word == p.text;
  return word.size() >= p.text.size() && word.compare(0, p.text.size(), p.text) == 0;
}

// The non-empty parts of `s` between separators, as views into `s`.
std::vector<std::string_view> SplitViews(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

CompiledCue CompileCue(const Cue& cue) {
  CompiledCue out;
  out.weight = cue.weight;
  for (std::string_view part : SplitViews(cue.pattern, '&')) {
    Phrase phrase;
    for (std::string_view w : SplitViews(part, ' ')) {
      phrase.push_back({std::string(w), CodePointCount(w) <= 2, KeyOf(w)});
    }
    out.parts.push_back(std::move(phrase));
  }
  return out;
}

// The words' positions by first-word key, so that a phrase is tried only where its first word
// can match instead of at every word: one text is matched against a few hundred cues.
class WordIndex {
 public:
  explicit WordIndex(const std::vector<std::string>& words) : words_(words) {
    entries_.reserve(words.size());
    for (std::size_t i = 0; i < words.size(); ++i) {
      if (!words[i].empty()) entries_.push_back((std::uint64_t{KeyOf(words[i])} << 32) | i);
    }
    std::sort(entries_.begin(), entries_.end());  // by key, then position
  }

  // The index of the first word of the phrase's first occurrence, or -1. The same as trying
  // every position in order: the candidates come in position order.
  std::ptrdiff_t PhraseAt(const Phrase& phrase) const {
    if (phrase.empty() || phrase.size() > words_.size()) return -1;
    const std::uint64_t key = std::uint64_t{phrase.front().key} << 32;
    auto it = std::lower_bound(entries_.begin(), entries_.end(), key);
    for (; it != entries_.end() && (*it >> 32) == phrase.front().key; ++it) {
      const std::size_t i = static_cast<std::size_t>(*it & 0xFFFFFFFFu);
      if (i + phrase.size() > words_.size()) break;  // later candidates are further right
      bool all = true;
      for (std::size_t k = 0; k < phrase.size() && all; ++k) all = WordMatches(words_[i + k], phrase[k]);
      if (all) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  }

 private:
  const std::vector<std::string>& words_;
  std::vector<std::uint64_t> entries_;
};

// Where the cue is first complete (for "a&b", the later of the two), or -1.
std::ptrdiff_t CueAt(const WordIndex& index, const CompiledCue& cue) {
  std::ptrdiff_t at = 0;
  for (const Phrase& part : cue.parts) {
    std::ptrdiff_t p = index.PhraseAt(part);
    if (p < 0) return -1;
    at = std::max(at, p);
  }
  return at;
}

CompiledCues Compile(std::span<const Cue> cues) {
  CompiledCues out;
  out.cues.reserve(cues.size());
  for (const Cue& cue : cues) out.cues.push_back(CompileCue(cue));
  return out;
}

bool IsIn(std::string_view value, std::span<const std::string_view> set) {
  return std::find(set.begin(), set.end(), value) != set.end();
}

// Phrases that turn to a second, lesser issue anywhere in a sentence.
constexpr std::string_view kSecondaryPhrases[] = {
    "by the way", "on top of that", "in addition", "additionally", "also", "besides",
    "кстати", "заодно", "вдобавок", "кроме того", "помимо этого", "а еще", "и еще", "также"};
// Words that do so only when they open a sentence ("And I have a new number now.").
constexpr std::string_view kSecondaryOpeners[] = {"and", "plus", "и", "еще", "а"};

std::size_t SecondaryIssueStart(const std::vector<std::string>& words, std::string_view text) {
  // The phrases split into words once, not per call.
  static const std::vector<std::vector<std::string>> kSplitPhrases = [] {
    std::vector<std::vector<std::string>> split;
    for (std::string_view phrase : kSecondaryPhrases) split.push_back(SplitOn(phrase, ' '));
    return split;
  }();
  std::size_t start = words.size();
  for (const std::vector<std::string>& exact : kSplitPhrases) {
    for (std::size_t i = 0; i + exact.size() <= words.size() && i < start; ++i) {
      if (std::equal(exact.begin(), exact.end(), words.begin() + static_cast<std::ptrdiff_t>(i))) {
        start = i;
        break;
      }
    }
  }
  // Sentence openers: after . ! ? or a line break.
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    char c = text[pos];
    if (c != '.' && c != '!' && c != '?' && c != '\n') continue;
    std::size_t word_start = pos + 1;
    while (word_start < text.size() && (text[word_start] == ' ' || text[word_start] == '\n')) ++word_start;
    std::vector<std::string> next = SplitWords(text.substr(word_start, 12));
    if (next.empty() || !IsIn(next[0], kSecondaryOpeners)) continue;
    std::size_t index = SplitWords(text.substr(0, word_start)).size();
    start = std::min(start, index);
    break;
  }
  return start < 3 ? words.size() : start;  // an opening "Also," is no turn
}

// "payment_dispute", "paymentDispute", "payment-dispute" -> lowercase "payment_dispute".
std::string NormalizeValueName(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c >= 'A' && c <= 'Z') {
      if (i > 0 && value[i - 1] >= 'a' && value[i - 1] <= 'z') out += '_';
      out += static_cast<char>(c + 32);
    } else if (c == '-' || c == ' ' || c == '.') {
      out += '_';
    } else {
      out += c;
    }
  }
  return NormalizeForMatch(out);
}

// A crude English stemmer, enough for value names: "blocked" -> "block", "charges" -> "charg".
std::string Stem(std::string word) {
  auto drop = [&](std::string_view suffix, std::size_t min_rest) {
    if (word.size() >= suffix.size() + min_rest &&
        word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0) {
      word.resize(word.size() - suffix.size());
      return true;
    }
    return false;
  };
  if (!drop("ing", 3) && !drop("ed", 3) && !drop("es", 4)) drop("s", 4);
  if (word.size() >= 5 && word.back() == 'e') word.pop_back();
  return word;
}

}  // namespace

int ScoreCues(const std::vector<std::string>& words, std::span<const Cue> cues) {
  return ScoreCues(words, Compile(cues));
}

int ScoreCues(const std::vector<std::string>& words, const CompiledCues& cues) {
  const WordIndex index(words);
  int score = 0;
  for (const CompiledCue& cue : cues.cues) {
    if (CueAt(index, cue) >= 0) score += cue.weight;
  }
  return score;
}

std::span<const Cue> UrgencyCues() { return UrgencyCueTable(); }
std::span<const Cue> FraudCues() { return FraudCueTable(); }

const CompiledCues& CompiledUrgencyCues() {
  static const CompiledCues compiled = Compile(UrgencyCueTable());
  return compiled;
}

const CompiledCues& CompiledFraudCues() {
  static const CompiledCues compiled = Compile(FraudCueTable());
  return compiled;
}

std::shared_ptr<const CompiledCues> CompiledCuesForValue(std::string_view value) {
  // Enum values come from callers' schemas, so the cache is bounded: past kMaxCached distinct
  // values a value's cues are prepared for the call only (same result, just slower).
  constexpr std::size_t kMaxCached = 4096;
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using Cache = std::unordered_map<std::string, std::shared_ptr<const CompiledCues>, Hash, std::equal_to<>>;
  static std::shared_mutex mutex;
  static Cache* cache = new Cache();  // leaked on purpose: no destruction-order hazard at exit
  {
    std::shared_lock lock(mutex);
    if (auto it = cache->find(value); it != cache->end()) return it->second;
  }
  auto compiled = std::make_shared<const CompiledCues>(Compile(CuesForValue(value)));
  std::unique_lock lock(mutex);
  if (auto it = cache->find(value); it != cache->end()) return it->second;
  if (cache->size() < kMaxCached) cache->emplace(std::string(value), compiled);
  return compiled;
}

std::vector<Cue> CuesForValue(std::string_view value) {
  const std::string name = NormalizeValueName(value);
  std::vector<Cue> cues;
  for (const Group& group : Groups()) {
    if (std::find(group.aliases.begin(), group.aliases.end(), name) != group.aliases.end()) {
      cues.insert(cues.end(), group.cues.begin(), group.cues.end());
    }
  }
  if (!cues.empty()) return cues;  // a known value: its curated cues only
  // Words too common in any ticket to speak for one value.
  static constexpr std::string_view kStopWords[] = {"and", "or", "the", "of", "to", "for", "is",
                                                    "not", "with", "problem", "issue", "issues",
                                                    "question", "request", "other", "general"};
  std::vector<std::string> stems;
  for (const std::string& part : SplitOn(name, '_')) {
    if (CodePointCount(part) < 3 || IsIn(part, kStopWords)) continue;
    stems.push_back(Stem(part));
    cues.push_back({stems.back(), 1});
  }
  if (stems.size() > 1) {
    std::string phrase;
    for (const std::string& s : stems) phrase += (phrase.empty() ? "" : " ") + s;
    cues.push_back({phrase, 2});
  }
  return cues;
}

EnumChoice ChooseEnumValue(const std::vector<std::string>& values, const std::vector<std::string>& words,
                           std::string_view text) {
  std::vector<std::string> names;
  names.reserve(values.size());
  for (const std::string& v : values) names.push_back(NormalizeValueName(v));

  // Language codes are answered by the script, not by keywords.
  auto find_in = [&](std::span<const std::string_view> set) -> std::ptrdiff_t {
    for (std::size_t i = 0; i < names.size(); ++i) {
      if (IsIn(names[i], set)) return static_cast<std::ptrdiff_t>(i);
    }
    return -1;
  };
  std::ptrdiff_t en = find_in(kEnglishCodes);
  std::ptrdiff_t ru = find_in(kRussianCodes);
  if (en >= 0 && ru >= 0) {
    return {static_cast<std::size_t>(MostlyCyrillic(text) ? ru : en), 4, 0};
  }

  // Cues before the text turns to a second issue count fully, later ones at 30%: the
  // ticket is about what it raises first. Scores are in tenths.
  const std::size_t turn = SecondaryIssueStart(words, text);
  const WordIndex index(words);
  std::vector<int> primary(values.size(), 0);
  std::vector<int> total(values.size(), 0);
  for (std::size_t i = 0; i < values.size(); ++i) {
    for (const CompiledCue& cue : CompiledCuesForValue(values[i])->cues) {
      std::ptrdiff_t at = CueAt(index, cue);
      if (at < 0) continue;
      bool first_issue = static_cast<std::size_t>(at) < turn;
      if (first_issue) primary[i] += cue.weight;
      total[i] += cue.weight * (first_issue ? 10 : 3);
    }
  }
  auto fallback = [&]() -> std::optional<std::size_t> {
    for (std::string_view name : kFallbackNames) {
      for (std::size_t i = 0; i < names.size(); ++i) {
        if (names[i] == name) return i;
      }
    }
    return std::nullopt;
  };
  const bool first_issue_known = *std::max_element(primary.begin(), primary.end()) > 0;
  auto best = std::max_element(total.begin(), total.end());  // the first of equal maxima
  if (*best <= 0 || (!first_issue_known && fallback())) return {fallback().value_or(0), 0, 0};
  EnumChoice choice{static_cast<std::size_t>(best - total.begin()), (*best + 5) / 10, 0};
  choice.score = std::max(choice.score, 1);
  for (std::size_t i = 0; i < total.size(); ++i) {
    if (i != choice.index) choice.runner_up = std::max(choice.runner_up, (total[i] + 5) / 10);
  }
  return choice;
}

double ConfidenceFor(const EnumChoice& choice) {
  if (choice.score <= 0) return 0.55;
  double strength = std::min(choice.score, 8) / 8.0;
  double lead = std::clamp(choice.score - choice.runner_up, 0, 6) / 6.0;
  double confidence = std::clamp(0.6 + 0.2 * strength + 0.15 * lead, 0.55, 0.95);
  return std::round(confidence * 100.0) / 100.0;
}

}  // namespace sluice::answer
