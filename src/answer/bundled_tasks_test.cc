// The answer engine against the project's own task types: every bundled schema gets valid
// output, and the labelled demo tickets are mostly classified right. The files live outside
// src/answer; a test whose file is missing is skipped, not failed.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "answer/answer_engine.h"

namespace sluice::answer {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

const fs::path kRepo = fs::path(__FILE__).parent_path().parent_path().parent_path();

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
  while (results.popError(error)) *why += error.description + "\n";
  return ok;
}

json::object SchemaRequest(const std::string& user_text, const json::value& schema) {
  return json::object{
      {"model", "fast"},
      {"messages", json::array{json::object{{"role", "system"}, {"content", "Answer only with JSON."}},
                               json::object{{"role", "user"}, {"content", user_text}}}},
      {"response_format",
       json::object{{"type", "json_schema"}, {"json_schema", json::object{{"name", "t"}, {"schema", schema}}}}}};
}

const char* kTexts[] = {
    "Договор № 45/2024 от 3 ноября 2026 г. между ООО «Ромашка» и АО Альфа. Итого 1 250 000,50 руб.",
    "Invoice No. INV-2026-17 issued November 3, 2026 by Acme Trading Ltd to Globex Inc. Total due: "
    "$1,250.00. Pay to DE89 3704 0044 0532 0130 00. Questions: billing@acme.example, +44 20 7946 0958.",
    "Customer: hi, my card was blocked at the airport and I can't pay. Agent: I unblocked it. "
    "Customer: thank you, great service!",
    "Мошенники списали 15 000 руб. Срочно заблокируйте карту!",
    "",
};

TEST(BundledTasks, EverySchemaGetsValidOutput) {
  const fs::path dir = kRepo / "tasks" / "schemas";
  if (!fs::is_directory(dir)) GTEST_SKIP() << "no " << dir;
  int schemas = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    ++schemas;
    json::value schema = json::parse(ReadFile(entry.path()));
    for (const char* text : kTexts) {
      Answer a = AnswerChat(SchemaRequest(std::string("Extract the fields.\n\n<document>\n") + text +
                                              "\n</document>",
                                          schema));
      json::value out = json::parse(a.content);
      std::string why;
      EXPECT_TRUE(Validates(schema, out, &why))
          << entry.path().filename() << " on '" << text << "': " << a.content << "\n" << why;
    }
  }
  EXPECT_GT(schemas, 0);
}

TEST(BundledTasks, ContractFieldsAreExtracted) {
  const fs::path path = kRepo / "tasks" / "schemas" / "contract_fields_v1.json";
  if (!fs::exists(path)) GTEST_SKIP() << "no " << path;
  json::value out = json::parse(AnswerChat(SchemaRequest(kTexts[1], json::parse(ReadFile(path)))).content);
  EXPECT_EQ(out.at("document_type").as_string(), "invoice");
  EXPECT_EQ(out.at("contract_number").as_string(), "INV-2026-17");
  EXPECT_EQ(out.at("date").as_string(), "2026-11-03");
  EXPECT_DOUBLE_EQ(out.at("total_amount").to_number<double>(), 1250.0);
  EXPECT_EQ(out.at("currency").as_string(), "USD");
  EXPECT_EQ(out.at("iban").as_string(), "DE89370400440532013000");
  EXPECT_EQ(out.at("email").as_string(), "billing@acme.example");
  EXPECT_EQ(out.at("parties").as_array().size(), 2u);
}

TEST(BundledTasks, DemoTicketsAreMostlyClassifiedRight) {
  const fs::path tickets = kRepo / "demo" / "tickets.jsonl";
  const fs::path schema_path = kRepo / "tasks" / "schemas" / "ticket_class_v1.json";
  if (!fs::exists(tickets) || !fs::exists(schema_path)) GTEST_SKIP() << "no demo tickets";
  json::value schema = json::parse(ReadFile(schema_path));
  std::ifstream in(tickets);
  std::string line;
  int total = 0;
  int right = 0;
  while (std::getline(in, line)) {
    json::object t = json::parse(line).as_object();
    std::string text(t.at("text").as_string());
    Answer a = AnswerChat(SchemaRequest("Classify this support ticket.\n\n<ticket>\n" + text + "\n</ticket>", schema));
    json::value out = json::parse(a.content);
    ++total;
    right += out.at("category") == t.at("expected_category") ? 1 : 0;
  }
  ASSERT_GT(total, 0);
  EXPECT_GE(right * 100, total * 90) << right << " of " << total;
}

}  // namespace
}  // namespace sluice::answer
