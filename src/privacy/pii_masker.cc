#include "privacy/pii_masker.h"

#include <algorithm>
#include <optional>

#include <boost/json.hpp>
#include <re2/re2.h>
#include <re2/set.h>

#include "privacy/checksums.h"

namespace sluice::privacy {

namespace json = boost::json;

// ---- PiiMapping ---------------------------------------------------------------------------

const std::string& PiiMapping::placeholder_for(const std::string& type, std::string_view value) {
  auto [it, added] = by_value_.try_emplace({type, std::string(value)});
  if (added) {
    const int n = ++counts_[type];
    it->second = "[" + type + "_" + std::to_string(n) + "]";
    originals_.emplace(it->second, std::string(value));
  }
  return it->second;
}

std::string PiiMapping::unmask(std::string_view text) const {
  if (originals_.empty() || text.find('[') == std::string_view::npos) return std::string(text);
  constexpr std::size_t kLongestPlaceholder = 48;  // [NAME_n]: a 32-byte name and the number
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t open = text.find('[', pos);
    if (open == std::string_view::npos) break;
    const std::size_t close = text.find(']', open + 1);
    if (close == std::string_view::npos) break;
    if (close - open + 1 > kLongestPlaceholder) {
      out.append(text.substr(pos, open + 1 - pos));
      pos = open + 1;
      continue;
    }
    auto it = originals_.find(std::string(text.substr(open, close - open + 1)));
    if (it == originals_.end()) {
      out.append(text.substr(pos, open + 1 - pos));  // "[[EMAIL_1]": the next '[' may start one
      pos = open + 1;
      continue;
    }
    out.append(text.substr(pos, open - pos));
    out.append(it->second);
    pos = close + 1;
  }
  out.append(text.substr(pos));
  return out;
}

void PiiMapping::unmask(json::value& value) const {
  if (originals_.empty()) return;
  if (value.is_string()) {
    value = unmask(std::string_view(value.as_string()));
  } else if (value.is_array()) {
    for (json::value& v : value.as_array()) unmask(v);
  } else if (value.is_object()) {
    json::object& o = value.as_object();
    json::object out;
    out.reserve(o.size());
    for (auto& [key, v] : o) {
      unmask(v);
      out[unmask(std::string_view(key))] = std::move(v);
    }
    o = std::move(out);
  }
}

json::object PiiMapping::counts_json() const {
  json::object o;
  for (const auto& [type, n] : counts_) o[type] = n;
  return o;
}

// ---- PiiMasker ----------------------------------------------------------------------------

struct PiiMasker::Compiled {
  PiiRule rule;
  std::unique_ptr<RE2> re;
};

struct PiiMasker::AnyRule {
  explicit AnyRule(const RE2::Options& options) : set(options, RE2::UNANCHORED) {}
  RE2::Set set;
};

namespace {

bool Passes(PiiCheck check, std::string_view value) {
  switch (check) {
    case PiiCheck::kNone: return true;
    case PiiCheck::kLuhn: return LuhnValid(value);
    case PiiCheck::kIban: return IbanValid(value);
    case PiiCheck::kKzIin: return KzIinValid(value);
    case PiiCheck::kPhone: return PhoneDigitsValid(value);
  }
  return false;
}

struct Match {
  std::size_t begin;
  std::size_t end;
  std::size_t rule;
};

// Where the value matched at [begin, end) ends if it passes its check. A greedy match may run
// on into what follows ("card 4111 1111 1111 1111 2025", an IBAN and the next capitalised word):
// a match that fails its check is tried again ending before each separator inside it, longest
// first, so the real value inside still counts.
std::optional<std::size_t> ValidEnd(const PiiRule& rule, const RE2& re, std::string_view text,
                                    std::size_t begin, std::size_t end) {
  if (Passes(rule.check, text.substr(begin, end - begin))) return end;
  if (rule.check == PiiCheck::kNone) return std::nullopt;
  const re2::StringPiece whole(text.data(), text.size());
  re2::StringPiece shorter;
  for (std::size_t cut = end - 1; cut > begin; --cut) {
    if (text[cut] != ' ' && text[cut] != '-') continue;
    if (re.Match(whole, begin, cut, RE2::ANCHOR_BOTH, &shorter, 1) &&
        Passes(rule.check, text.substr(begin, cut - begin))) {
      return cut;
    }
  }
  return std::nullopt;
}

}  // namespace

PiiMasker::PiiMasker(std::vector<Compiled> compiled, std::unique_ptr<AnyRule> any)
    : rules_(std::move(compiled)), any_(std::move(any)) {}

PiiMasker::~PiiMasker() = default;

Result<std::shared_ptr<const PiiMasker>> PiiMasker::Compile(std::vector<PiiRule> rules) {
  RE2::Options options;
  options.set_log_errors(false);
  auto any = std::make_unique<AnyRule>(options);
  std::vector<Compiled> compiled;
  for (PiiRule& rule : rules) {
    auto re = std::make_unique<RE2>(rule.pattern, options);
    if (!re->ok()) {
      return InvalidArgument("privacy rule " + rule.name + ": pattern is not valid RE2: " + re->error(),
                             "privacy.rule");
    }
    std::string error;
    if (any->set.Add(rule.pattern, &error) < 0) {
      return InvalidArgument("privacy rule " + rule.name + ": " + error, "privacy.rule");
    }
    compiled.push_back(Compiled{std::move(rule), std::move(re)});
  }
  if (!compiled.empty() && !any->set.Compile()) {
    return InvalidArgument("the privacy rules are too large to compile together", "privacy.rule");
  }
  return std::shared_ptr<const PiiMasker>(new PiiMasker(std::move(compiled), std::move(any)));
}

Result<std::shared_ptr<const PiiMasker>> PiiMasker::FromConfig(const PrivacyConfig& config) {
  ASSIGN_OR_RETURN(std::vector<PiiRule> rules, PiiRulesOf(config));
  return Compile(std::move(rules));
}

const PiiMasker& PiiMasker::Builtin() {
  static const std::shared_ptr<const PiiMasker> builtin = *Compile(BuiltinPiiRules());
  return *builtin;
}

std::string PiiMasker::mask(std::string_view text, PiiMapping& mapping) const {
  std::vector<int> hit;
  if (rules_.empty() || !any_->set.Match(text, &hit)) return std::string(text);
  std::sort(hit.begin(), hit.end());  // rule order decides ties below
  std::vector<Match> found;
  for (int r : hit) {
    const Compiled& c = rules_[static_cast<std::size_t>(r)];
    const re2::StringPiece whole(text.data(), text.size());
    re2::StringPiece m;
    std::size_t from = 0;
    // Match over the whole text from `from`, so \b sees the character before the start.
    while (from <= text.size() &&
           c.re->Match(whole, from, text.size(), RE2::UNANCHORED, &m, 1)) {
      const std::size_t begin = static_cast<std::size_t>(m.data() - text.data());
      const std::size_t end = begin + m.size();
      if (m.empty()) {
        from = begin + 1;  // a pattern that matches nothing must not stall the walk
        continue;
      }
      if (std::optional<std::size_t> valid_end = ValidEnd(c.rule, *c.re, text, begin, end)) {
        found.push_back({begin, *valid_end, static_cast<std::size_t>(r)});
        from = *valid_end;
      } else {
        from = end;
      }
    }
  }
  if (found.empty()) return std::string(text);
  std::sort(found.begin(), found.end(), [](const Match& a, const Match& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end > b.end;
    return a.rule < b.rule;
  });
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (const Match& m : found) {
    if (m.begin < pos) continue;  // overlaps one already taken (which began earlier or is longer)
    const PiiRule& rule = rules_[m.rule].rule;
    const std::string_view value = text.substr(m.begin, m.end - m.begin);
    out.append(text.substr(pos, m.begin - pos));
    out.append(mapping.placeholder_for(rule.name, value));
    pos = m.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace sluice::privacy
