#include "answer/field_kind.h"

#include <algorithm>
#include <initializer_list>

namespace sluice::answer {
namespace {

// "parties" -> "party", "dates" -> "date", "addresses" -> "address".
std::string Singular(const std::string& word) {
  auto ends = [&](std::string_view s) {
    return word.size() > s.size() + 2 && word.compare(word.size() - s.size(), s.size(), s) == 0;
  };
  if (ends("ies")) return word.substr(0, word.size() - 3) + "y";
  if (ends("sses") || ends("ches") || ends("shes")) return word.substr(0, word.size() - 2);
  if (ends("s") && !ends("ss")) return word.substr(0, word.size() - 1);
  return word;
}

}  // namespace

std::vector<std::string> NameTokens(std::string_view name) {
  std::vector<std::string> tokens;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) tokens.push_back(std::move(current));
    current.clear();
  };
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool upper = c >= 'A' && c <= 'Z';
    bool lower_or_digit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (upper) {
      if (i > 0 && name[i - 1] >= 'a' && name[i - 1] <= 'z') flush();
      current += static_cast<char>(c + 32);
    } else if (lower_or_digit || static_cast<unsigned char>(c) >= 0x80) {
      current += c;
    } else {
      flush();
    }
  }
  flush();
  return tokens;
}

FieldKind KindOfField(std::string_view name) {
  std::vector<std::string> tokens = NameTokens(name);
  const std::size_t n = tokens.size();
  for (std::size_t i = 0; i < n; ++i) tokens.push_back(Singular(tokens[i]));
  auto has = [&](std::initializer_list<std::string_view> words) {
    return std::any_of(tokens.begin(), tokens.end(), [&](const std::string& t) {
      return std::find(words.begin(), words.end(), t) != words.end();
    });
  };
  // Most specific first: "contract_date" is a date, "customer_phone" a phone,
  // "number_of_phones" a count.
  if (has({"count", "quantity"}) || (has({"number"}) && has({"of"}))) return FieldKind::kCount;
  if (has({"iban"})) return FieldKind::kIban;
  if (has({"email", "mail"})) return FieldKind::kEmail;
  if (has({"phone", "telephone", "tel", "mobile", "msisdn", "cellphone"})) return FieldKind::kPhone;
  if (has({"confidence", "probability", "certainty", "likelihood", "score"})) {
    return FieldKind::kConfidence;
  }
  if (has({"date", "deadline", "dated", "dob", "birthday", "expiry", "expiration"})) {
    return FieldKind::kDate;
  }
  if (has({"currency"})) return FieldKind::kCurrency;
  if (has({"total"})) return FieldKind::kTotal;
  if (has({"amount", "sum", "price", "cost", "fee", "balance", "paid", "refund"})) {
    return FieldKind::kAmount;
  }
  if (has({"due", "day", "when", "until", "year"})) return FieldKind::kDate;
  if (has({"party", "counterparty", "company", "organization", "organisation", "org", "vendor",
           "supplier", "seller", "buyer", "customer", "client", "merchant", "contractor", "lessor",
           "lessee", "employer", "payee", "payer", "name", "sender", "beneficiary"})) {
    return FieldKind::kParty;
  }
  if (has({"contract", "agreement", "reference", "invoice", "ref"})) return FieldKind::kContractNumber;
  if (has({"summary", "description", "abstract", "overview", "gist", "synopsis", "brief", "tldr"})) {
    return FieldKind::kSummary;
  }
  if (has({"reason", "rationale", "explanation", "justification", "why", "evidence", "comment",
           "note", "detail", "analysis", "cause", "motivation"})) {
    return FieldKind::kReason;
  }
  if (has({"point", "highlight", "sentence", "bullet", "fact", "action", "step", "finding"})) {
    return FieldKind::kSentences;
  }
  if (has({"title", "subject", "headline", "heading"})) return FieldKind::kTitle;
  if (has({"language", "lang", "locale"})) return FieldKind::kLanguage;
  if (has({"urgent", "urgency", "priority", "escalate", "escalation", "asap", "critical", "severity"})) {
    return FieldKind::kUrgent;
  }
  if (has({"fraud", "fraudulent", "suspicious", "scam"})) return FieldKind::kFraud;
  if (has({"category", "class", "classification", "label", "type", "intent", "topic", "tag",
           "keyword", "kind"})) {
    return FieldKind::kCategory;
  }
  if (has({"id", "number", "no"})) return FieldKind::kId;
  return FieldKind::kNone;
}

bool IsFactKind(FieldKind kind) {
  switch (kind) {
    case FieldKind::kIban:
    case FieldKind::kEmail:
    case FieldKind::kPhone:
    case FieldKind::kDate:
    case FieldKind::kCurrency:
    case FieldKind::kTotal:
    case FieldKind::kAmount:
    case FieldKind::kParty:
    case FieldKind::kContractNumber:
      return true;
    default:
      return false;
  }
}

}  // namespace sluice::answer
