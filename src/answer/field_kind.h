// What a schema field is about, guessed from its name: "contract_number", "dueDate",
// "customer_phone", "is_urgent", "key_points". The schema filler uses it to pick an extractor.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sluice::answer {

enum class FieldKind {
  kNone,
  // facts found by patterns
  kIban,
  kEmail,
  kPhone,
  kDate,
  kCurrency,
  kTotal,
  kAmount,
  kParty,
  kContractNumber,
  // text and judgements
  kSummary,
  kReason,
  kSentences,  // key_points, highlights, action_items
  kTitle,
  kLanguage,
  kConfidence,
  kUrgent,
  kFraud,
  kCategory,
  kCount,
  kId,
};

// The lowercase words of a field name: "contractNumber" and "contract-number" give
// {"contract", "number"}.
std::vector<std::string> NameTokens(std::string_view name);

FieldKind KindOfField(std::string_view name);

// True for the kinds that patterns.h finds.
bool IsFactKind(FieldKind kind);

}  // namespace sluice::answer
