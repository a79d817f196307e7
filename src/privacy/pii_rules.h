// What counts as PII: named RE2 patterns, each with the checksum a match must pass. The
// built-in rules cover emails, phone numbers, payment cards, IBANs and Kazakhstan IIN/BIN;
// a deployment adds its own under [[privacy.rule]] (config/config.h).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace sluice::privacy {

// kPhone: 10 to 15 digits (E.164's most, and no shorter than a number with its area code).
enum class PiiCheck { kNone, kLuhn, kIban, kKzIin, kPhone };

// "none" | "luhn" | "iban" | "kz_iin" | "phone"; nullopt for anything else.
std::optional<PiiCheck> ParsePiiCheck(std::string_view name);

struct PiiRule {
  std::string name;     // the placeholder's type, [A-Z][A-Z0-9_]*: [NAME_1], [NAME_2], ...
  std::string pattern;  // RE2; a match is a candidate, masked when `check` passes
  PiiCheck check = PiiCheck::kNone;
};

// EMAIL, PHONE, CARD, IBAN, IIN, in the order they win an overlap of equal length.
const std::vector<PiiRule>& BuiltinPiiRules();

// The rules a deployment masks with: the built-ins (unless turned off), then the configured
// ones; a configured rule named like a built-in replaces it. InvalidArgument naming
// privacy.rule[i] for a bad name or check.
Result<std::vector<PiiRule>> PiiRulesOf(const PrivacyConfig& config);

}  // namespace sluice::privacy
