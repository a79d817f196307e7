#include "privacy/pii_rules.h"

#include <algorithm>
#include <set>

namespace sluice::privacy {

std::optional<PiiCheck> ParsePiiCheck(std::string_view name) {
  if (name == "none") return PiiCheck::kNone;
  if (name == "luhn") return PiiCheck::kLuhn;
  if (name == "iban") return PiiCheck::kIban;
  if (name == "kz_iin") return PiiCheck::kKzIin;
  if (name == "phone") return PiiCheck::kPhone;
  return std::nullopt;
}

const std::vector<PiiRule>& BuiltinPiiRules() {
  // RE2 has no look-around: \b (ASCII) keeps a number from starting or ending inside a longer
  // one, and the checksums reject what the patterns over-match. Each pattern accepts the ways
  // people write the value: grouped by spaces or hyphens, local and international phones.
  static const std::vector<PiiRule> rules = {
      {"EMAIL", R"([A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24})",
       PiiCheck::kNone},
      // International (+ country code, 10 to 15 digits in groups) and the local Kazakh and
      // Russian trunk form 8 (7xx) xxx-xx-xx.
      {"PHONE",
       R"((?:\+\d{1,3}[ -]?\(?\d{2,4}\)?(?:[ -]?\d{2,4}){2,4}|\b8[ -]?\(?\d{3}\)?[ -]?\d{3}[ -]?\d{2}[ -]?\d{2})\b)",
       PiiCheck::kPhone},
      // 13 to 19 digits, together or in groups of four (Amex: 4-6-5).
      {"CARD", R"(\b(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,4})?|\d{4}[ -]\d{6}[ -]\d{5})\b)",
       PiiCheck::kLuhn},
      // Two letters, two check digits, 11 to 30 more, often in groups of four.
      {"IBAN", R"(\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b)", PiiCheck::kIban},
      {"IIN", R"(\b\d{12}\b)", PiiCheck::kKzIin},
  };
  return rules;
}

namespace {

bool IsRuleName(std::string_view name) {
  if (name.empty() || name.size() > 32 || !(name[0] >= 'A' && name[0] <= 'Z')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

}  // namespace

Result<std::vector<PiiRule>> PiiRulesOf(const PrivacyConfig& config) {
  std::vector<PiiRule> rules;
  if (config.builtin_rules) rules = BuiltinPiiRules();
  std::set<std::string> configured;
  for (std::size_t i = 0; i < config.rules.size(); ++i) {
    const PrivacyRuleConfig& c = config.rules[i];
    const std::string where = "privacy.rule[" + std::to_string(i) + "]";
    if (!IsRuleName(c.name)) {
      return InvalidArgument(where + ".name must be 1 to 32 of A-Z, 0-9 and _, starting with a letter (it "
                                 "becomes the placeholder [" + c.name + "_1])",
                             where + ".name");
    }
    if (!configured.insert(c.name).second) {
      return InvalidArgument(where + ": a second rule named " + c.name, where + ".name");
    }
    if (c.pattern.empty()) return InvalidArgument(where + ".pattern must not be empty", where + ".pattern");
    auto check = ParsePiiCheck(c.check);
    if (!check) {
      return InvalidArgument(where + ".check must be luhn, iban, kz_iin, phone or none, not " + c.check,
                             where + ".check");
    }
    PiiRule rule{c.name, c.pattern, *check};
    auto same = std::find_if(rules.begin(), rules.end(), [&](const PiiRule& r) { return r.name == c.name; });
    if (same != rules.end()) {
      *same = std::move(rule);
    } else {
      rules.push_back(std::move(rule));
    }
  }
  return rules;
}

}  // namespace sluice::privacy
