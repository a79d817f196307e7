#include "answer/schema_filler.h"

#include <re2/re2.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <deque>
#include <optional>
#include <set>

#include "answer/field_kind.h"
#include "answer/schema_rules.h"
#include "answer/keywords.h"
#include "answer/summarize.h"
#include "answer/text.h"

namespace sluice::answer {
namespace {

namespace json = boost::json;

// Guards against schemas that refer to themselves without end.
constexpr int kMaxDepth = 16;
// Below this depth only required properties are filled.
constexpr int kOptionalDepth = 4;

// The bank-ticket categories, offered for a free-text "category" field.
const std::vector<std::string>& TicketCategories() {
  static const std::vector<std::string> categories = {
      "double_charge", "missing_transfer", "early_repayment", "card_blocked",
      "login_problem", "phone_change",     "fraud",           "other"};
  return categories;
}

struct Filled {
  json::value value;
  bool found = false;  // the value says something about the text (else it is a placeholder)
};

struct Resolved {
  const json::object* schema = nullptr;  // nullptr: anything is valid
  bool nullable = false;
};

class Filler {
 public:
  Filler(const json::value& root, const Document& doc) : root_(root), doc_(doc) {}

  json::value Run() {
    FindPrimaryChoice(root_, 0);
    return Fill(root_, "", 0).value;
  }

 private:
  struct Focus {
    FieldKind kind = FieldKind::kNone;
    std::size_t index = 0;
  };

  Resolved Resolve(const json::value& schema, int depth);
  Filled Fill(const json::value& schema, std::string_view name, int depth);
  Filled FillEnum(const json::array& values);
  // For a fact field with an enum ("currency": ["USD", "EUR", "RUB", null]): the fact when
  // the enum lists it, null when nothing is found and null is listed; nullopt otherwise.
  std::optional<Filled> FillFactEnum(const json::array& values, std::string_view name);
  Filled FillObject(const json::object& s, int depth);
  Filled FillArray(const json::object& s, std::string_view name, int depth);
  Filled FillString(const json::object& s, bool nullable, std::string_view name);
  Filled FillNumber(const json::object& s, bool nullable, std::string_view name, bool integer);
  Filled FillBoolean(std::string_view name);
  void FindPrimaryChoice(const json::value& schema, int depth);

  std::size_t FactCount(FieldKind kind) const;
  std::size_t FactIndex(FieldKind kind) const;
  std::size_t TotalIndex() const;
  // [normalized, as written] forms of the focused (else first) fact of a kind; empty if none.
  std::vector<std::string> FactStrings(FieldKind kind) const;
  std::string ReasonSentence() const;
  double Confidence() const;
  std::string CategoryName() const;

  const json::value& root_;
  const Document& doc_;
  std::deque<json::object> merged_;  // allOf merges; a deque keeps their addresses stable
  std::optional<std::vector<std::string>> primary_values_;  // the first string enum met
  EnumChoice primary_;
  Focus focus_;
};

Resolved Filler::Resolve(const json::value& schema, int depth) {
  if (!schema.is_object() || depth > kMaxDepth) return {};
  const json::object& s = schema.get_object();
  if (std::string_view ref = StringAt(s, "$ref"); !ref.empty()) {
    if (const json::value* target = ResolvePointer(root_, ref)) return Resolve(*target, depth + 1);
    return {};
  }
  for (std::string_view key : {"anyOf", "oneOf"}) {
    const json::value* branches = s.if_contains(key);
    if (branches == nullptr || !branches->is_array()) continue;
    Resolved chosen;
    bool nullable = false;
    for (const json::value& branch : branches->get_array()) {
      Resolved r = Resolve(branch, depth + 1);
      bool null_only = r.schema != nullptr && PrimaryType(*r.schema) == "null";
      if (null_only) {
        nullable = true;
      } else if (chosen.schema == nullptr) {
        chosen = r;
      }
    }
    chosen.nullable = chosen.nullable || nullable;
    return chosen;
  }
  if (const json::value* all = s.if_contains("allOf"); all != nullptr && all->is_array()) {
    json::object merged = s;
    merged.erase("allOf");
    json::object properties;
    json::array required;
    auto absorb = [&](const json::object& part) {
      if (const json::value* p = part.if_contains("properties"); p && p->is_object()) {
        for (const auto& kv : p->get_object()) properties[kv.key()] = kv.value();
      }
      if (const json::value* r = part.if_contains("required"); r && r->is_array()) {
        for (const json::value& name : r->get_array()) required.push_back(name);
      }
      for (const auto& kv : part) {
        if (kv.key() != "properties" && kv.key() != "required" && !merged.contains(kv.key())) {
          merged[kv.key()] = kv.value();
        }
      }
    };
    absorb(s);
    for (const json::value& part : all->get_array()) {
      Resolved r = Resolve(part, depth + 1);
      if (r.schema != nullptr) absorb(*r.schema);
    }
    if (!properties.empty()) merged["properties"] = std::move(properties);
    if (!required.empty()) merged["required"] = std::move(required);
    merged_.push_back(std::move(merged));
    return {&merged_.back(), false};
  }
  bool nullable = TypeListHas(s, "null");
  if (const json::value* e = s.if_contains("enum"); e && e->is_array()) {
    for (const json::value& v : e->get_array()) nullable = nullable || v.is_null();
  }
  return {&s, nullable};
}

void Filler::FindPrimaryChoice(const json::value& schema, int depth) {
  if (primary_values_ || depth > kMaxDepth) return;
  Resolved r = Resolve(schema, depth);
  if (r.schema == nullptr) return;
  const json::object& s = *r.schema;
  if (const json::value* e = s.if_contains("enum"); e && e->is_array()) {
    std::vector<std::string> values;
    for (const json::value& v : e->get_array()) {
      if (v.is_string()) values.emplace_back(v.get_string());
    }
    if (!values.empty()) {
      primary_ = ChooseEnumValue(values, doc_.words(), doc_.text());
      primary_values_ = std::move(values);
    }
    return;
  }
  if (const json::value* p = s.if_contains("properties"); p && p->is_object()) {
    for (const auto& kv : p->get_object()) FindPrimaryChoice(kv.value(), depth + 1);
  }
  if (const json::value* items = s.if_contains("items")) FindPrimaryChoice(*items, depth + 1);
}

Filled Filler::Fill(const json::value& schema, std::string_view name, int depth) {
  Resolved r = Resolve(schema, depth);
  if (r.schema == nullptr) {
    static const json::object kEmpty;
    return FillString(kEmpty, false, name);
  }
  const json::object& s = *r.schema;
  if (const json::value* c = s.if_contains("const")) return {*c, true};
  if (const json::value* e = s.if_contains("enum"); e && e->is_array()) {
    return FillFactEnum(e->get_array(), name).value_or(FillEnum(e->get_array()));
  }
  std::string_view type = PrimaryType(s);
  if (depth > kMaxDepth) {
    if (r.nullable || type == "null") return {nullptr, false};
    if (type == "object") return {json::object(), false};
    if (type == "array") return {json::array(), false};
  }
  if (type == "null") return {nullptr, false};
  if (type == "object") return FillObject(s, depth);
  if (type == "array") return FillArray(s, name, depth);
  if (type == "number") return FillNumber(s, r.nullable, name, false);
  if (type == "integer") return FillNumber(s, r.nullable, name, true);
  if (type == "boolean") return FillBoolean(name);
  return FillString(s, r.nullable, name);
}

Filled Filler::FillEnum(const json::array& values) {
  std::vector<std::string> strings;
  for (const json::value& v : values) {
    if (v.is_string()) strings.emplace_back(v.get_string());
  }
  if (strings.empty()) {
    for (const json::value& v : values) {
      if (!v.is_null()) return {v, true};
    }
    return {nullptr, false};
  }
  EnumChoice choice = primary_values_ && *primary_values_ == strings
                          ? primary_
                          : ChooseEnumValue(strings, doc_.words(), doc_.text());
  return {json::value(strings[choice.index]), true};
}

std::optional<Filled> Filler::FillFactEnum(const json::array& values, std::string_view name) {
  FieldKind kind = KindOfField(name);
  if (!IsFactKind(kind)) return std::nullopt;
  std::vector<std::string> facts = FactStrings(kind);
  for (const std::string& fact : facts) {
    std::string folded = NormalizeForMatch(fact);
    for (const json::value& v : values) {
      if (v.is_string() && NormalizeForMatch(v.get_string()) == folded) return Filled{v, true};
    }
  }
  bool null_allowed = std::any_of(values.begin(), values.end(), [](const json::value& v) { return v.is_null(); });
  if (facts.empty() && null_allowed) return Filled{nullptr, false};
  return std::nullopt;
}

Filled Filler::FillObject(const json::object& s, int depth) {
  json::object out;
  bool found = false;
  std::set<std::string, std::less<>> required;
  if (const json::value* r = s.if_contains("required"); r && r->is_array()) {
    for (const json::value& name : r->get_array()) {
      if (name.is_string()) required.emplace(name.get_string());
    }
  }
  std::vector<std::pair<std::string, json::value>> skipped;  // optional, nothing found
  const json::value* props = s.if_contains("properties");
  if (props != nullptr && props->is_object()) {
    for (const auto& kv : props->get_object()) {
      // Optional properties stop deep down, so that a recursive schema ends.
      if (depth >= kOptionalDepth && !required.contains(kv.key())) continue;
      Filled f = Fill(kv.value(), kv.key(), depth + 1);
      found = found || f.found;
      if (f.found || required.contains(kv.key())) {
        out[kv.key()] = std::move(f.value);
      } else {
        skipped.emplace_back(kv.key(), std::move(f.value));
      }
    }
  }
  // Required names the properties do not describe: allowed by additionalProperties.
  static const json::value kAnything = json::object();
  const json::value* extra = s.if_contains("additionalProperties");
  const json::value& extra_schema = extra != nullptr && extra->is_object() ? *extra : kAnything;
  for (const std::string& name : required) {
    if (!out.contains(name)) out[name] = Fill(extra_schema, name, depth + 1).value;
  }
  if (auto min = NumberAt(s, "minProperties")) {
    for (auto& [name, value] : skipped) {
      if (static_cast<double>(out.size()) >= *min) break;
      out[name] = std::move(value);
    }
  }
  bool open = extra == nullptr || (extra->is_bool() && extra->get_bool());
  if (out.empty() && open && (props == nullptr || props->get_object().empty())) {
    std::string summary = Summarize(doc_, 3, 400);
    found = !summary.empty();
    out["answer"] = std::move(summary);
  }
  return {std::move(out), found};
}

Filled Filler::FillArray(const json::object& s, std::string_view name, int depth) {
  json::array out;
  std::optional<double> min_items = NumberAt(s, "minItems");
  std::optional<double> max_items = NumberAt(s, "maxItems");
  const std::size_t max = max_items ? static_cast<std::size_t>(*max_items) : 10;
  const json::value* tuple = s.if_contains("prefixItems");
  if (tuple == nullptr || !tuple->is_array()) {
    const json::value* items = s.if_contains("items");
    tuple = items != nullptr && items->is_array() ? items : nullptr;
  }
  if (tuple != nullptr) {  // a tuple: one value per position
    for (const json::value& item : tuple->get_array()) {
      if (out.size() >= max) break;
      out.push_back(Fill(item, name, depth + 1).value);
    }
    return {std::move(out), true};
  }
  static const json::value kAnything = json::object();
  const json::value* items_ptr = s.if_contains("items");
  const json::value& items = items_ptr != nullptr ? *items_ptr : kAnything;
  Resolved item = Resolve(items, depth + 1);
  const FieldKind kind = KindOfField(name);
  const bool unique = s.if_contains("uniqueItems") && s.at("uniqueItems").is_bool() &&
                      s.at("uniqueItems").get_bool();
  std::string_view item_type = item.schema != nullptr ? PrimaryType(*item.schema) : "string";
  const json::value* item_enum = item.schema != nullptr ? item.schema->if_contains("enum") : nullptr;
  bool found = false;

  if (item_enum != nullptr && item_enum->is_array()) {
    // Every value the text speaks for, in enum order; else the single best guess.
    for (const json::value& v : item_enum->get_array()) {
      if (!v.is_string() || out.size() >= max) continue;
      if (ScoreCues(doc_.words(), *CompiledCuesForValue(v.get_string())) > 0) out.push_back(v);
    }
    found = !out.empty();
    if (out.empty()) out.push_back(FillEnum(item_enum->get_array()).value);
  } else if (IsFactKind(kind) && (item_type == "object" || item_type == "string" ||
                                  item_type == "number" || item_type == "integer")) {
    // One item per distinct fact, each filled with that fact in focus.
    std::set<std::string> seen;
    Focus saved = focus_;
    for (std::size_t i = 0; i < FactCount(kind) && out.size() < max; ++i) {
      focus_ = {kind == FieldKind::kTotal ? FieldKind::kAmount : kind, i};
      Filled f = Fill(items, name, depth + 1);
      if (item_type != "object" && !f.found) continue;
      if (!seen.insert(json::serialize(f.value)).second) continue;
      out.push_back(std::move(f.value));
    }
    focus_ = saved;
    found = !out.empty();
  } else if (item_type == "string" &&
             (kind == FieldKind::kSentences || kind == FieldKind::kSummary || kind == FieldKind::kReason)) {
    for (const std::string& sentence : doc_.informative_sentences()) {
      if (out.size() >= std::min<std::size_t>(max, 3)) break;
      out.push_back(json::value(FitString({sentence}, *item.schema)));
    }
    found = !out.empty();
  } else if (item_type == "string" && kind == FieldKind::kCategory) {
    for (const std::string& category : TicketCategories()) {
      if (out.size() >= max) break;
      if (ScoreCues(doc_.words(), *CompiledCuesForValue(category)) > 0) out.push_back(json::value(category));
    }
    found = !out.empty();
  } else {
    Filled f = Fill(items, name, depth + 1);
    if (f.found) out.push_back(std::move(f.value));
    found = f.found;
  }

  // Pad to minItems with copies; unique arrays get numbered string copies.
  while (min_items && static_cast<double>(out.size()) < *min_items) {
    json::value pad = out.empty() ? Fill(items, name, depth + 1).value : out.back();
    if (unique && !out.empty()) {
      if (pad.is_string()) {
        pad = json::value(std::string(pad.get_string()) + " " + std::to_string(out.size() + 1));
      } else if (pad.is_number()) {
        pad = json::value(pad.to_number<double>() + 1);
      }
    }
    out.push_back(std::move(pad));
  }
  return {std::move(out), found};
}

std::size_t Filler::FactCount(FieldKind kind) const {
  switch (kind) {
    case FieldKind::kIban: return doc_.ibans().size();
    case FieldKind::kEmail: return doc_.emails().size();
    case FieldKind::kPhone: return doc_.phones().size();
    case FieldKind::kDate: return doc_.dates().size();
    case FieldKind::kCurrency:
    case FieldKind::kTotal:
    case FieldKind::kAmount: return doc_.amounts().size();
    case FieldKind::kParty: return doc_.parties().size();
    case FieldKind::kContractNumber:
    case FieldKind::kId: return doc_.contract_numbers().size();
    default: return 0;
  }
}

std::size_t Filler::TotalIndex() const {
  // The amount right after "total"/"итого"/"к оплате", else the largest.
  const std::vector<Amount>& amounts = doc_.amounts();
  static constexpr std::string_view kTotalWords[] = {"total", "итого", "всего", "оплате", "sum", "сумма"};
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    std::size_t from = amounts[i].found.offset >= 40 ? amounts[i].found.offset - 40 : 0;
    std::vector<std::string> before =
        SplitWords(std::string_view(doc_.text()).substr(from, amounts[i].found.offset - from));
    for (std::string_view w : kTotalWords) {
      if (std::find(before.begin(), before.end(), w) != before.end()) return i;
    }
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < amounts.size(); ++i) {
    if (amounts[i].value > amounts[best].value) best = i;
  }
  return best;
}

std::size_t Filler::FactIndex(FieldKind kind) const {
  FieldKind base = kind == FieldKind::kCurrency || kind == FieldKind::kTotal ? FieldKind::kAmount : kind;
  if (base == FieldKind::kId) base = FieldKind::kContractNumber;
  if (focus_.kind == base) return focus_.index;
  if (kind == FieldKind::kTotal) return TotalIndex();
  return 0;
}

std::vector<std::string> Filler::FactStrings(FieldKind kind) const {
  if (FactCount(kind) == 0) return {};
  std::size_t i = FactIndex(kind);
  if (i >= FactCount(kind)) return {};
  auto both = [](const Found& f) { return std::vector<std::string>{f.normalized, f.text}; };
  switch (kind) {
    case FieldKind::kIban: return both(doc_.ibans()[i]);
    case FieldKind::kEmail: return both(doc_.emails()[i]);
    case FieldKind::kPhone: return both(doc_.phones()[i]);
    case FieldKind::kDate: return both(doc_.dates()[i]);
    case FieldKind::kCurrency: return {doc_.amounts()[i].currency};
    case FieldKind::kTotal:
    case FieldKind::kAmount: return {doc_.amounts()[i].found.text, doc_.amounts()[i].found.normalized};
    case FieldKind::kParty: return {doc_.parties()[i].text};
    case FieldKind::kContractNumber:
    case FieldKind::kId: return both(doc_.contract_numbers()[i]);
    default: return {};
  }
}

std::string Filler::ReasonSentence() const {
  if (primary_values_ && primary_.score > 0) {
    std::shared_ptr<const CompiledCues> cues = CompiledCuesForValue((*primary_values_)[primary_.index]);
    const std::string* best = nullptr;
    int best_score = 0;
    const std::vector<std::string>* pool = &doc_.informative_sentences();
    if (pool->empty()) pool = &doc_.sentences();
    for (const std::string& sentence : *pool) {
      int score = ScoreCues(SplitWords(sentence), *cues);
      if (score > best_score) {
        best = &sentence;
        best_score = score;
      }
    }
    if (best != nullptr) {
      return CodePointCount(*best) > 300 ? TruncateCodePoints(*best, 299) + "\u2026" : *best;
    }
  }
  return Summarize(doc_, 1, 300);
}

double Filler::Confidence() const {
  if (primary_values_) return ConfidenceFor(primary_);
  // No classification: confidence grows with the kinds of facts found.
  int kinds = 0;
  for (FieldKind k : {FieldKind::kDate, FieldKind::kAmount, FieldKind::kPhone, FieldKind::kEmail,
                      FieldKind::kIban, FieldKind::kContractNumber, FieldKind::kParty}) {
    kinds += FactCount(k) > 0 ? 1 : 0;
  }
  return std::min(95, 55 + 10 * kinds) / 100.0;
}

std::string Filler::CategoryName() const {
  if (primary_values_) return (*primary_values_)[primary_.index];
  return TicketCategories()[ChooseEnumValue(TicketCategories(), doc_.words(), doc_.text()).index];
}

Filled Filler::FillString(const json::object& s, bool nullable, std::string_view name) {
  FieldKind kind = KindOfField(name);
  if (kind == FieldKind::kNone && focus_.kind != FieldKind::kNone) kind = focus_.kind;  // "value"
  std::string_view format = StringAt(s, "format");
  if (format == "date" || format == "date-time") kind = FieldKind::kDate;
  if (format == "email") kind = FieldKind::kEmail;
  std::vector<std::string> candidates;
  switch (kind) {
    case FieldKind::kSummary:
      candidates.push_back(Summarize(doc_, 2, 300));
      break;
    case FieldKind::kReason:
      candidates.push_back(ReasonSentence());
      break;
    case FieldKind::kSentences:
      candidates.push_back(Summarize(doc_, 3, 400));
      break;
    case FieldKind::kTitle: {
      std::string title = Summarize(doc_, 1, 80);
      while (!title.empty() && (title.back() == '.' || title.back() == '!')) title.pop_back();
      candidates.push_back(title);
      break;
    }
    case FieldKind::kLanguage:
      candidates.push_back(doc_.cyrillic() ? "ru" : "en");
      break;
    case FieldKind::kCategory:
      candidates.push_back(CategoryName());
      break;
    case FieldKind::kConfidence: {
      double c = Confidence();
      candidates.push_back(c >= 0.8 ? "high" : c >= 0.65 ? "medium" : "low");
      break;
    }
    case FieldKind::kUrgent:
      candidates.push_back(ScoreCues(doc_.words(), CompiledUrgencyCues()) > 0 ? "high" : "normal");
      break;
    case FieldKind::kFraud:
      candidates.push_back(ScoreCues(doc_.words(), CompiledFraudCues()) > 0 ? "suspected" : "none");
      break;
    case FieldKind::kCount:
      candidates.push_back(std::to_string(doc_.informative_sentences().size()));
      break;
    case FieldKind::kNone:
      candidates.push_back(Summarize(doc_, 1, 300));
      break;
    default:
      candidates = FactStrings(kind);
      if (kind == FieldKind::kDate && format == "date-time" && !candidates.empty()) {
        candidates.insert(candidates.begin(), candidates.front() + "T00:00:00Z");
      }
      break;
  }
  std::erase_if(candidates, [](const std::string& c) { return c.empty(); });
  if (candidates.empty()) {
    if (nullable) return {nullptr, false};
    // Nothing to say and null not allowed: an empty string, or for a format the validator
    // checks, a placeholder that passes it (the answer must validate; found=false marks it).
    std::string placeholder = format == "date"        ? "1970-01-01"
                              : format == "date-time" ? "1970-01-01T00:00:00Z"
                              : format == "email"     ? "unknown@example.com"
                                                      : "";
    return {json::value(FitString({placeholder}, s)), false};
  }
  return {json::value(FitString(candidates, s)), true};
}

Filled Filler::FillNumber(const json::object& s, bool nullable, std::string_view name, bool integer) {
  FieldKind kind = KindOfField(name);
  if (kind == FieldKind::kNone && focus_.kind != FieldKind::kNone) kind = focus_.kind;  // "value"
  std::optional<double> value;
  bool found = true;
  switch (kind) {
    case FieldKind::kConfidence: {
      double c = Confidence();
      std::optional<double> max = NumberAt(s, "maximum");
      if (!max) max = NumberAt(s, "exclusiveMaximum");
      if (max && *max > 1) {
        c *= *max;
      } else if (integer) {
        c *= 100;
      }
      value = c;
      break;
    }
    case FieldKind::kAmount:
    case FieldKind::kTotal:
      if (FactCount(kind) > 0) value = doc_.amounts()[FactIndex(kind)].value;
      break;
    case FieldKind::kDate:
      if (!doc_.dates().empty()) value = std::stod(doc_.dates()[FactIndex(kind)].normalized.substr(0, 4));
      break;
    case FieldKind::kCount: {
      std::string rest;
      for (const std::string& t : NameTokens(name)) {
        if (t != "count" && t != "number" && t != "of" && t != "num" && t != "quantity") rest += t + "_";
      }
      FieldKind counted = KindOfField(rest);
      value = static_cast<double>(IsFactKind(counted) ? FactCount(counted)
                                                      : doc_.informative_sentences().size());
      break;
    }
    case FieldKind::kUrgent: {
      bool urgent = ScoreCues(doc_.words(), CompiledUrgencyCues()) > 0;
      std::optional<double> bound = urgent ? NumberAt(s, "maximum") : NumberAt(s, "minimum");
      value = bound.value_or(urgent ? 1 : 0);
      break;
    }
    default:
      found = false;
      break;
  }
  if (!value) {
    if (nullable) return {nullptr, false};
    value = 0;
    found = false;
  }
  return {NumberValue(Constrain(*value, s, integer), integer), found};
}

Filled Filler::FillBoolean(std::string_view name) {
  FieldKind kind = KindOfField(name);
  if (kind == FieldKind::kUrgent) return {json::value(ScoreCues(doc_.words(), CompiledUrgencyCues()) > 0), true};
  if (kind == FieldKind::kFraud) return {json::value(ScoreCues(doc_.words(), CompiledFraudCues()) > 0), true};
  if (IsFactKind(kind) || kind == FieldKind::kId) return {json::value(FactCount(kind) > 0), true};
  // "is_double_charge", "needs_review": the name's own words (and synonyms) as cues.
  static constexpr std::string_view kStop[] = {"is", "has", "have", "needs", "need", "requires",
                                               "require", "contains", "contain", "was", "should",
                                               "can", "any", "mentions", "mention", "flag",
                                               "detected", "found", "present"};
  std::string subject;
  for (const std::string& t : NameTokens(name)) {
    if (std::find(std::begin(kStop), std::end(kStop), t) != std::end(kStop)) continue;
    subject += (subject.empty() ? "" : "_") + t;
  }
  if (subject.empty()) return {json::value(false), true};
  return {json::value(ScoreCues(doc_.words(), *CompiledCuesForValue(subject)) > 0), true};
}

}  // namespace

boost::json::value FillSchema(const boost::json::value& schema, const Document& doc) {
  return Filler(schema, doc).Run();
}

}  // namespace sluice::answer
