#include "tasks/schema_validator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json.hpp>
#include <thread>
#include <vector>

namespace sluice {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;

constexpr const char* kTicketSchema = R"({
  "type": "object",
  "properties": {
    "category": {"type": "string", "enum": ["double_charge", "fraud", "other"]},
    "urgent": {"type": "boolean"},
    "confidence": {"type": "number", "minimum": 0, "maximum": 1},
    "summary": {"type": "string"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "amount": {"type": ["number", "null"]},
    "ref": {"type": "string", "pattern": "^[A-Z]{2}[0-9]+$"}
  },
  "required": ["category", "urgent", "confidence", "summary"],
  "additionalProperties": false
})";

SchemaValidator Ticket() {
  auto v = SchemaValidator::Compile(json::parse(kTicketSchema));
  CHECK(v.ok());
  return *v;
}

Status Check(const char* doc) {
  return Ticket().Validate(json::parse(doc));
}

TEST(SchemaValidatorTest, AcceptsAValidAnswer) {
  EXPECT_TRUE(
      Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9, "summary": "s"})").ok());
  // An integer is a number; a nullable field may be null.
  EXPECT_TRUE(Check(R"({"category": "other", "urgent": false, "confidence": 1, "summary": "",
                        "amount": null, "tags": [], "ref": "AB12"})")
                  .ok());
}

TEST(SchemaValidatorTest, KeepsTheSchemaDocument) {
  EXPECT_EQ(Ticket().schema(), json::parse(kTicketSchema));
}

TEST(SchemaValidatorTest, EnumViolationNamesPathValueAndChoices) {
  Status s = Check(R"({"category": "refund", "urgent": true, "confidence": 0.9, "summary": "s"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "category: value 'refund' not in enum [double_charge, fraud, other]");
  EXPECT_EQ(s.field(), "category");
}

TEST(SchemaValidatorTest, TypeViolation) {
  Status s = Check(R"({"category": "fraud", "urgent": "yes", "confidence": 0.9, "summary": "s"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "urgent: expected boolean, got string");
  EXPECT_EQ(s.field(), "urgent");
  Status nullable =
      Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9, "summary": "s",
                              "amount": "12.50"})");
  EXPECT_EQ(nullable.message(), "amount: expected number or null, got string");
}

TEST(SchemaValidatorTest, MissingRequiredProperty) {
  Status s = Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "summary: required property is missing");
  EXPECT_EQ(s.field(), "summary");
}

TEST(SchemaValidatorTest, AdditionalProperty) {
  Status s = Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9, "summary": "s",
                       "reasoning": "because"})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "reasoning: property is not allowed by the schema");
}

TEST(SchemaValidatorTest, RangeViolations) {
  Status high =
      Check(R"({"category": "fraud", "urgent": true, "confidence": 1.5, "summary": "s"})");
  EXPECT_EQ(high.message(), "confidence: value 1.5 is above the maximum 1");
  Status low =
      Check(R"({"category": "fraud", "urgent": true, "confidence": -0.25, "summary": "s"})");
  EXPECT_EQ(low.message(), "confidence: value -0.25 is below the minimum 0");
}

TEST(SchemaValidatorTest, ArrayItemPathHasItsIndex) {
  Status s = Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9, "summary": "s",
                       "tags": ["a", 3]})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "tags[1]: expected string, got integer");
  EXPECT_EQ(s.field(), "tags[1]");
}

TEST(SchemaValidatorTest, NestedObjectPathIsDotted) {
  auto v = SchemaValidator::Compile(json::parse(R"({"type": "object", "properties": {
      "party": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}})"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  Status s = v->Validate(json::parse(R"({"party": {"name": 5}})"));
  EXPECT_EQ(s.message(), "party.name: expected string, got integer");
  Status missing = v->Validate(json::parse(R"({"party": {}})"));
  EXPECT_EQ(missing.message(), "party.name: required property is missing");
}

TEST(SchemaValidatorTest, WrongDocumentTypeAtTheRoot) {
  Status s = Check(R"(["fraud"])");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "(document): expected object, got array");
  EXPECT_EQ(s.field(), "");
}

TEST(SchemaValidatorTest, ListsTheFirstFewViolationsAndCountsTheRest) {
  Status s = Check(R"({"category": 1, "urgent": 2, "confidence": "3", "summary": 4})");
  ASSERT_FALSE(s.ok());
  // A value of the wrong type is reported as that alone, not also as "not in enum".
  EXPECT_EQ(s.message(),
            "category: expected string, got integer; confidence: expected number, got string; "
            "summary: expected string, got integer (and 1 more)");
  EXPECT_EQ(s.field(), "category");
}

TEST(SchemaValidatorTest, PatternViolationKeepsValijsonsWords) {
  Status s = Check(R"({"category": "fraud", "urgent": true, "confidence": 0.9, "summary": "s",
                       "ref": "x"})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("ref: "));
  EXPECT_THAT(s.message(), HasSubstr("regex"));
}

TEST(SchemaValidatorTest, RejectsSchemasThatAreNotSchemas) {
  EXPECT_FALSE(SchemaValidator::Compile(json::parse("[]")).ok());
  EXPECT_FALSE(SchemaValidator::Compile(json::parse("\"object\"")).ok());
  auto bad_required = SchemaValidator::Compile(json::parse(R"({"required": 7})"));
  ASSERT_FALSE(bad_required.ok());
  EXPECT_EQ(bad_required.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(SchemaValidator::Compile(json::parse(R"({"type": 5})")).ok());
  EXPECT_FALSE(
      SchemaValidator::Compile(json::parse(R"({"$ref": "http://example.com/s.json"})")).ok());
}

// Many threads validating against one compiled schema, including a "pattern" (whose regex
// valijson caches per Validator), each must get its own correct answer. Run under TSan too.
TEST(SchemaValidatorTest, ConcurrentValidationIsSafe) {
  SchemaValidator v = Ticket();
  json::value good = json::parse(R"({"category": "fraud", "urgent": true, "confidence": 0.5,
                                     "summary": "s", "ref": "AB1"})");
  json::value bad = json::parse(R"({"category": "fraud", "urgent": true, "confidence": 0.5,
                                    "summary": "s", "ref": "nope"})");
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        bool want_ok = (i + t) % 2 == 0;
        if (v.Validate(want_ok ? good : bad).ok() != want_ok) ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(ParseModelJsonTest, ParsesPlainJson) {
  auto v = ParseModelJson("  {\"category\": \"fraud\"}\n");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, json::parse(R"({"category": "fraud"})"));
}

TEST(ParseModelJsonTest, ToleratesFences) {
  for (const char* text :
       {"```json\n{\"a\": 1}\n```", "```\n{\"a\": 1}\n```\n", "```JSON {\"a\": 1}```",
        "Here is the result:\n```json\n{\"a\": 1}\n```\nLet me know!", "```json\n{\"a\": 1}\n"}) {
    auto v = ParseModelJson(text);
    ASSERT_TRUE(v.ok()) << text << ": " << v.status().ToString();
    EXPECT_EQ(*v, json::parse(R"({"a": 1})")) << text;
  }
}

TEST(ParseModelJsonTest, BackticksInsideAStringAreNotAFence) {
  auto v = ParseModelJson(R"({"summary": "ran ```ls``` twice"})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->at("summary"), "ran ```ls``` twice");
}

TEST(ParseModelJsonTest, KeepsUnicode) {
  auto v = ParseModelJson(R"({"summary": "Списали дважды 💳"})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->at("summary"), "Списали дважды 💳");
}

TEST(ParseModelJsonTest, FailsClearlyOnGarbage) {
  for (const char* text : {"", "   \n", "I am sorry, I cannot help with that.", "{\"a\": 1",
                           "{\"a\": 1} and more", "```json\nnot json\n```", "```json\n```"}) {
    auto v = ParseModelJson(text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument) << text;
  }
  auto prose = ParseModelJson("I am sorry, I cannot help with that request today, truly.");
  EXPECT_THAT(prose.status().message(), HasSubstr("not valid JSON"));
  EXPECT_THAT(prose.status().message(), HasSubstr("'I am sorry, I cannot help with that requ...'"));
  EXPECT_THAT(ParseModelJson("").status().message(), HasSubstr("empty"));
}

// Quotes are cut to a length, but never inside a UTF-8 character: messages end up in JSON.
TEST(ParseModelJsonTest, QuotesCutAtCharacterBoundaries) {
  // Cyrillic letters are 2 bytes: byte 40 falls inside the "у" of "могу".
  auto v = ParseModelJson("1Ой, извините, я не могу ответить на этот вопрос");
  ASSERT_FALSE(v.ok());
  const std::string& m = v.status().message();
  EXPECT_THAT(m, HasSubstr("'1Ой, извините, я не мог...'"));
  boost::system::error_code ec;
  json::parse(json::serialize(json::value(m)), ec);
  EXPECT_FALSE(ec);
}

TEST(SchemaValidatorTest, LongValuesAreShortenedInMessages) {
  Status s = Check(R"({"category": "очень-длинная-категория-которой-нет-в-списке", "urgent": true,
                       "confidence": 0.9, "summary": "s"})");
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("value 'очень-длинная-категор...' not in enum"));
}

}  // namespace
}  // namespace sluice
