// Reversible PII masking (API.md "Privacy: PII masking"): before a provider sees a request,
// each value a rule finds becomes a typed placeholder ([EMAIL_1], [CARD_2]); the answer's
// placeholders are put back before the result is stored.
//
// The placeholders of one job live in a PiiMapping, in memory only: an attempt after a crash
// or a retry masks the same input again and, the numbering being by first appearance, gets
// the same placeholders. So the mapping, which holds the secrets, is never stored.
#pragma once

#include <boost/json/fwd.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "privacy/pii_rules.h"

namespace sluice::privacy {

// One job's (or one synchronous call's) placeholders: the same value, the same placeholder.
class PiiMapping {
 public:
  // The placeholder standing for `value` (a match of rule `type`), numbered per type in the
  // order values first appear. Values are compared byte for byte: "A@x.io" and "a@x.io" are
  // two placeholders, so that unmasking gives back exactly what was written.
  const std::string& placeholder_for(const std::string& type, std::string_view value);

  // `text` with every placeholder of this mapping replaced by its value; anything that only
  // looks like one ([EMAIL_9] never handed out) is left as it is.
  std::string unmask(std::string_view text) const;
  // Every string in `value` unmasked (object keys too), in place.
  void unmask(boost::json::value& value) const;

  bool empty() const { return originals_.empty(); }
  // How many distinct values of each type were masked: {"CARD": 2, "EMAIL": 1}.
  const std::map<std::string, int>& counts() const { return counts_; }
  boost::json::object counts_json() const;

 private:
  std::map<std::pair<std::string, std::string>, std::string> by_value_;  // (type, value) → placeholder
  std::unordered_map<std::string, std::string> originals_;            // placeholder → value
  std::map<std::string, int> counts_;
};

// The compiled rules. Immutable after Compile, so any number of threads may mask at once.
class PiiMasker {
 public:
  // InvalidArgument naming the rule whose pattern RE2 rejects.
  static Result<std::shared_ptr<const PiiMasker>> Compile(std::vector<PiiRule> rules);
  // The rules of [privacy] (PiiRulesOf), compiled.
  static Result<std::shared_ptr<const PiiMasker>> FromConfig(const PrivacyConfig& config);
  // The built-in rules, compiled once.
  static const PiiMasker& Builtin();

  ~PiiMasker();

  // `text` with every PII value replaced by its placeholder in `mapping`. Where matches of
  // several rules overlap, the longest wins (then the earlier rule): a card number is not
  // also taken apart as a phone.
  std::string mask(std::string_view text, PiiMapping& mapping) const;

 private:
  struct Compiled;
  struct AnyRule;  // an RE2::Set of every pattern: one pass tells which rules can match at all
  PiiMasker(std::vector<Compiled> compiled, std::unique_ptr<AnyRule> any);

  std::vector<Compiled> rules_;
  std::unique_ptr<AnyRule> any_;
};

}  // namespace sluice::privacy
