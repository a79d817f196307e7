// Makes a JSON value that validates against a JSON Schema, filled from a Document.
//
// The schema is walked as written: "type" (one or a list, "null" allowed), object
// "properties"/"required"/"additionalProperties", "items" (or tuple items/"prefixItems"),
// "enum", "const", "$ref" into the same document ("#/$defs/x", "#/definitions/x"),
// "anyOf"/"oneOf" (the first non-null branch; null allowed when a branch is null), "allOf"
// (merged), and the value constraints minimum/maximum (inclusive and exclusive),
// multipleOf, minLength/maxLength, pattern, format (date, date-time, email),
// minItems/maxItems/uniqueItems, minProperties.
//
// What goes in a field depends on its name and type:
// - enum: the value whose keywords best match the text (see keywords.h), else an
//   "other"-like value, else the first;
// - summary/description: one or two informative sentences; reason/explanation: the
//   sentence that best supports the chosen category; title/subject: a short first sentence;
//   language: "ru" or "en"; category/type/topic without an enum: a bank-ticket category;
// - date/amount/total/currency/phone/email/iban/contract_number/party (and plurals in
//   arrays): pattern extraction; nothing found gives null where the schema allows it, else
//   "" / 0 (an optional property with nothing found is left out);
// - confidence/probability/score: 0.55..0.95 from the strength of the classification
//   (scaled when the maximum is above 1, e.g. 0..100);
// - urgent/priority/escalate booleans: urgency or fraud cues; fraud/suspicious booleans:
//   fraud cues; has_<fact> booleans: whether the fact was found;
// - arrays of objects named after a fact ("parties", "amounts") get one item per match.
// Deterministic: the same schema and text give the same value, keys in schema order.
#pragma once

#include <boost/json/value.hpp>

#include "answer/document.h"

namespace sluice::answer {

boost::json::value FillSchema(const boost::json::value& schema, const Document& doc);

}  // namespace sluice::answer
