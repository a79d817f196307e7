#include "answer/schema_filler.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace sluice::answer {
namespace {

namespace json = boost::json;

// Validates `instance` against `schema` with valijson; the errors, one per line, go to *why.
bool Validates(const json::value& schema_doc, const json::value& instance, std::string* why) {
  valijson::Schema schema;
  valijson::SchemaParser parser;
  valijson::adapters::BoostJsonAdapter schema_adapter(schema_doc);
  parser.populateSchema(schema_adapter, schema);
  valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter target(instance);
  bool ok = validator.validate(schema, target, &results);
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string path;
    for (const std::string& p : error.context) path += p;
    *why += path + ": " + error.description + "\n";
  }
  return ok;
}

json::value FillAndCheck(const std::string& schema_text, const std::string& text) {
  json::value schema = json::parse(schema_text);
  Document doc(text);
  json::value out = FillSchema(schema, doc);
  std::string why;
  EXPECT_TRUE(Validates(schema, out, &why)) << json::serialize(out) << "\n" << why;
  return out;
}

const char* kTicketSchema = R"({
  "type": "object",
  "properties": {
    "category": {"type": "string", "enum": ["double_charge", "missing_transfer", "early_repayment",
        "card_blocked", "login_problem", "phone_change", "fraud", "other"]},
    "urgent": {"type": "boolean"},
    "summary": {"type": "string", "maxLength": 200},
    "reason": {"type": "string"},
    "confidence": {"type": "number", "minimum": 0, "maximum": 1}
  },
  "required": ["category", "urgent", "summary", "reason", "confidence"],
  "additionalProperties": false
})";

TEST(Validation, ReallyRunsAndRejectsBadInstances) {
  json::value schema = json::parse(kTicketSchema);
  std::string why;
  EXPECT_FALSE(Validates(schema, json::parse(R"({"category": "nope", "urgent": true, "summary": "",
      "reason": "", "confidence": 0.5})"), &why));
  EXPECT_NE(why.find("category"), std::string::npos) << why;
  why.clear();
  EXPECT_FALSE(Validates(schema, json::parse(R"({"category": "fraud"})"), &why));
  why.clear();
  EXPECT_FALSE(Validates(schema, json::parse(R"({"category": "fraud", "urgent": true, "summary": "",
      "reason": "", "confidence": 1.5})"), &why));
  why.clear();
  EXPECT_TRUE(Validates(schema, json::parse(R"({"category": "fraud", "urgent": true, "summary": "",
      "reason": "", "confidence": 0.5})"), &why)) << why;
}

TEST(FillSchema, TicketClassificationInRussian) {
  json::value out = FillAndCheck(kTicketSchema,
                                 "Здравствуйте! Срочно! Мошенники списали с моей карты 15 000 руб. "
                                 "Я не совершал этих операций. Заблокируйте карту, пожалуйста.");
  const json::object& o = out.as_object();
  EXPECT_EQ(o.at("category").as_string(), "fraud");
  EXPECT_TRUE(o.at("urgent").as_bool());
  EXPECT_NE(std::string(o.at("summary").as_string()).find("Мошенники"), std::string::npos);
  EXPECT_NE(std::string(o.at("reason").as_string()).find("Мошенники"), std::string::npos);
  EXPECT_GE(o.at("confidence").as_double(), 0.55);
  EXPECT_LE(o.at("confidence").as_double(), 0.95);
}

TEST(FillSchema, TicketClassificationInEnglishNotUrgent) {
  json::value out = FillAndCheck(kTicketSchema,
                                 "Classify this ticket. Answer JSON.\n\nHi. I was charged twice for "
                                 "one coffee on 2026-11-03. Could you refund the extra $4.50?");
  const json::object& o = out.as_object();
  EXPECT_EQ(o.at("category").as_string(), "double_charge");
  EXPECT_FALSE(o.at("urgent").as_bool());
  EXPECT_EQ(o.at("summary").as_string().subview().substr(0, 24), "I was charged twice for ");
  EXPECT_EQ(o.at("reason").as_string(), "I was charged twice for one coffee on 2026-11-03.");
}

TEST(FillSchema, ConfidenceIsStrongerForAClearerText) {
  json::value weak = FillAndCheck(kTicketSchema, "There is a missing item.");
  json::value strong = FillAndCheck(kTicketSchema,
                                    "My transfer has not arrived. The transfer was sent on Monday "
                                    "and the money is missing, the recipient did not receive it.");
  EXPECT_LT(weak.at("confidence").as_double(), strong.at("confidence").as_double());
}

const char* kContractSchema = R"({
  "$defs": {
    "nullable_string": {"anyOf": [{"type": "string"}, {"type": "null"}]}
  },
  "type": "object",
  "properties": {
    "contract_number": {"type": ["string", "null"]},
    "signed_date": {"type": "string", "format": "date", "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
    "total_amount": {"type": ["number", "null"]},
    "currency": {"type": ["string", "null"], "enum": ["USD", "EUR", "RUB", null]},
    "parties": {"type": "array", "items": {"type": "string"}},
    "iban": {"$ref": "#/$defs/nullable_string"},
    "email": {"$ref": "#/$defs/nullable_string"},
    "phone": {"$ref": "#/$defs/nullable_string"},
    "has_iban": {"type": "boolean"}
  },
  "required": ["contract_number", "signed_date", "total_amount", "currency", "parties", "iban",
               "email", "phone", "has_iban"],
  "additionalProperties": false
})";

TEST(FillSchema, ContractFieldExtraction) {
  json::value out = FillAndCheck(
      kContractSchema,
      "Договор № 45/2024 от 3 ноября 2026 г. между ООО «Ромашка» и АО Альфа. Итого к оплате "
      "1 250 000,50 руб. на счёт DE89 3704 0044 0532 0130 00. Контакты: buh@romashka.ru, "
      "+7 (916) 123-45-67.");
  const json::object& o = out.as_object();
  EXPECT_EQ(o.at("contract_number").as_string(), "45/2024");
  EXPECT_EQ(o.at("signed_date").as_string(), "2026-11-03");
  EXPECT_DOUBLE_EQ(o.at("total_amount").as_double(), 1250000.5);
  EXPECT_EQ(o.at("currency").as_string(), "RUB");
  ASSERT_EQ(o.at("parties").as_array().size(), 2u);
  EXPECT_EQ(o.at("parties").as_array()[0].as_string(), "ООО «Ромашка»");
  EXPECT_EQ(o.at("iban").as_string(), "DE89370400440532013000");
  EXPECT_EQ(o.at("email").as_string(), "buh@romashka.ru");
  EXPECT_EQ(o.at("phone").as_string(), "+79161234567");
  EXPECT_TRUE(o.at("has_iban").as_bool());
}

TEST(FillSchema, NothingFoundGivesNullWhereAllowed) {
  json::value out = FillAndCheck(kContractSchema, "Hello, this text mentions no facts at all.");
  const json::object& o = out.as_object();
  EXPECT_TRUE(o.at("contract_number").is_null());
  EXPECT_TRUE(o.at("total_amount").is_null());
  EXPECT_TRUE(o.at("iban").is_null());
  EXPECT_TRUE(o.at("parties").as_array().empty());
  EXPECT_FALSE(o.at("has_iban").as_bool());
  EXPECT_TRUE(o.at("currency").is_null());
  EXPECT_EQ(o.at("signed_date").as_string(), "1970-01-01");  // not nullable: a valid placeholder
}

TEST(FillSchema, NestedObjectsArraysOfFactsAndIntegerConfidence) {
  json::value out = FillAndCheck(R"({
    "type": "object",
    "properties": {
      "ticket": {
        "type": "object",
        "properties": {
          "category": {"enum": ["card_blocked", "login_problem", "other"]},
          "priority": {"type": "string", "enum": ["low", "normal", "high"]},
          "language": {"type": "string"},
          "confidence": {"type": "integer", "minimum": 0, "maximum": 100}
        },
        "required": ["category", "priority", "language", "confidence"],
        "additionalProperties": false
      },
      "amounts": {
        "type": "array",
        "items": {
          "type": "object",
          "properties": {"value": {"type": "number"}, "currency": {"type": "string"}},
          "required": ["value", "currency"],
          "additionalProperties": false
        }
      },
      "dates": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
      "key_points": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2}
    },
    "required": ["ticket", "amounts", "dates", "key_points"],
    "additionalProperties": false
  })",
                                 "Card blocked since 03.11.2026! I need it unblocked urgently. "
                                 "I have a $120.00 payment and a EUR 45 payment due on 2026-11-03.");
  const json::object& t = out.at("ticket").as_object();
  EXPECT_EQ(t.at("category").as_string(), "card_blocked");
  EXPECT_EQ(t.at("priority").as_string(), "high");
  EXPECT_EQ(t.at("language").as_string(), "en");
  EXPECT_TRUE(t.at("confidence").is_int64());
  EXPECT_GE(t.at("confidence").as_int64(), 55);
  const json::array& amounts = out.at("amounts").as_array();
  ASSERT_EQ(amounts.size(), 2u);
  EXPECT_DOUBLE_EQ(amounts[0].at("value").as_double(), 120.0);
  EXPECT_EQ(amounts[0].at("currency").as_string(), "USD");
  EXPECT_EQ(amounts[1].at("currency").as_string(), "EUR");
  EXPECT_EQ(out.at("dates").as_array().size(), 1u);  // the same date twice, uniqueItems
  EXPECT_EQ(out.at("key_points").as_array().size(), 2u);
}

TEST(FillSchema, AllOfConstExclusiveBoundsAndPadding) {
  json::value out = FillAndCheck(R"({
    "allOf": [
      {"type": "object", "properties": {"kind": {"const": "ticket"}}, "required": ["kind"]},
      {"properties": {
         "score": {"type": "number", "exclusiveMinimum": 0.6, "maximum": 0.7},
         "tags": {"type": "array", "items": {"type": "string"}, "minItems": 3, "uniqueItems": true},
         "severity": {"type": "integer", "enum": [1, 2, 3]},
         "note": {"type": "string", "minLength": 5, "maxLength": 10}
       },
       "required": ["score", "tags", "severity", "note"]}
    ]
  })",
                                 "My card is blocked.");
  EXPECT_EQ(out.at("kind").as_string(), "ticket");
  EXPECT_EQ(out.at("tags").as_array().size(), 3u);
  EXPECT_EQ(out.at("severity").as_int64(), 1);
}

TEST(FillSchema, RequiredNamesWithoutPropertiesAndOpenObjects) {
  json::value out = FillAndCheck(R"({"type": "object", "required": ["summary", "email"]})",
                                 "Please write to me at a@b.com about the refund of my fee.");
  EXPECT_EQ(out.at("email").as_string(), "a@b.com");
  EXPECT_EQ(out.at("summary").as_string(), "Please write to me at a@b.com about the refund of my fee.");
  json::value open = FillAndCheck(R"({"type": "object"})", "The branch is closed today.");
  EXPECT_EQ(open.at("answer").as_string(), "The branch is closed today.");
}

TEST(FillSchema, SelfReferenceTerminates) {
  FillAndCheck(R"({"$defs": {"node": {"type": "object", "properties": {"child": {"$ref": "#/$defs/node"},
      "summary": {"type": "string"}}}}, "$ref": "#/$defs/node"})",
               "A tree of text.");
}

}  // namespace
}  // namespace sluice::answer
