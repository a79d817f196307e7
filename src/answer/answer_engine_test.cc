#include "answer/answer_engine.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::answer {
namespace {

namespace json = boost::json;

json::object Request(const std::string& text) {
  return json::parse(R"({"model": "m", "messages": [
      {"role": "system", "content": "You sort bank support tickets."},
      {"role": "user", "content": )" + json::serialize(json::value(text)) + "}]}").as_object();
}

TEST(AnswerChat, PlainSummaryOfTheLastUserMessage) {
  json::object req = Request(
      "Hello! My card was blocked yesterday at the airport. I cannot pay for the hotel. "
      "The support line did not answer. I am traveling until Friday. Thanks.");
  Answer a = AnswerChat(req);
  EXPECT_EQ(a.content,
            "My card was blocked yesterday at the airport. I cannot pay for the hotel. The support "
            "line did not answer.");
  EXPECT_GT(a.prompt_tokens, 0);
  EXPECT_EQ(a.completion_tokens, EstimateTokens(a.content));
}

TEST(AnswerChat, SummaryDropsSalutationsAndInstructions) {
  EXPECT_EQ(AnswerChat(Request("Summarize the ticket below.\n\nDear bank, I want to repay my mortgage early. "
                               "Best regards, Tom"))
                .content,
            "I want to repay my mortgage early.");
  EXPECT_EQ(AnswerChat(Request("Добрый день, у меня не проходит оплата картой в магазине. С уважением, Анна.")).content,
            "У меня не проходит оплата картой в магазине.");
}

TEST(AnswerChat, PromptTokensCountEveryMessage) {
  json::object one = Request("Short text here.");
  json::object two = one;
  two["messages"].as_array().push_back(json::parse(R"({"role": "assistant", "content": "An earlier answer that is long enough to count."})"));
  two["messages"].as_array().push_back(json::parse(R"({"role": "user", "content": "Short text here."})"));
  EXPECT_GT(AnswerChat(two).prompt_tokens, AnswerChat(one).prompt_tokens);
  EXPECT_EQ(AnswerChat(two).content, AnswerChat(one).content);  // the last user message is the subject
}

TEST(AnswerChat, ContentPartsAreJoined) {
  json::object req = json::parse(R"({"messages": [{"role": "user", "content": [
      {"type": "text", "text": "The transfer of 500 EUR did not arrive."},
      {"type": "image_url", "image_url": {"url": "data:,"}},
      {"type": "text", "text": "It was sent on Monday to my landlord."}]}]})").as_object();
  EXPECT_EQ(AnswerChat(req).content, "The transfer of 500 EUR did not arrive. It was sent on Monday to my landlord.");
}

TEST(AnswerChat, JsonObjectModeWrapsTheSummary) {
  json::object req = Request("Перевод не пришёл уже три дня. Прошу проверить статус перевода.");
  req["response_format"] = json::parse(R"({"type": "json_object"})");
  json::value out = json::parse(AnswerChat(req).content);
  EXPECT_EQ(out.at("answer").as_string(), "Перевод не пришёл уже три дня. Прошу проверить статус перевода.");
}

TEST(AnswerChat, JsonSchemaModeFillsTheSchema) {
  json::object req = Request("Не могу войти в приложение: пишет неверный пароль. Срочно!");
  req["response_format"] = json::parse(R"({"type": "json_schema", "json_schema": {"name": "t", "strict": true,
      "schema": {"type": "object", "properties": {"category": {"type": "string",
      "enum": ["card_blocked", "login_problem", "other"]}, "urgent": {"type": "boolean"}},
      "required": ["category", "urgent"], "additionalProperties": false}}})");
  Answer a = AnswerChat(req);
  json::value out = json::parse(a.content);
  EXPECT_EQ(out.at("category").as_string(), "login_problem");
  EXPECT_TRUE(out.at("urgent").as_bool());
  EXPECT_EQ(a.completion_tokens, EstimateTokens(a.content));
}

TEST(AnswerChat, Deterministic) {
  json::object req = Request("Contract No. 2024-117 dated 2026-11-03 for $1,250.00. Who pays the fee?");
  req["response_format"] = json::parse(R"({"type": "json_schema", "json_schema": {"schema": {"type": "object",
      "properties": {"contract_number": {"type": "string"}, "date": {"type": "string"},
      "amount": {"type": "number"}, "summary": {"type": "string"}, "confidence": {"type": "number"}},
      "required": ["contract_number", "date", "amount", "summary", "confidence"]}}})");
  Answer first = AnswerChat(req);
  for (int i = 0; i < 5; ++i) {
    Answer again = AnswerChat(req);
    EXPECT_EQ(again.content, first.content);
    EXPECT_EQ(again.prompt_tokens, first.prompt_tokens);
  }
  EXPECT_EQ(first.content,
            R"({"contract_number":"2024-117","date":"2026-11-03","amount":1250,)"
            R"("summary":"Contract No. 2024-117 dated 2026-11-03 for $1,250.00. Who pays the fee?",)"
            R"("confidence":0.85})");
}

TEST(AnswerChat, EmptyOrMissingMessages) {
  EXPECT_EQ(AnswerChat(json::object{}).content, "");
  EXPECT_EQ(AnswerChat(json::object{}).prompt_tokens, 0);
}

TEST(EstimateTokens, EnglishAndCyrillicRates) {
  EXPECT_EQ(EstimateTokens(""), 0);
  EXPECT_EQ(EstimateTokens("a"), 1);
  EXPECT_EQ(EstimateTokens(std::string(400, 'a')), 100);
  std::string cyrillic;
  for (int i = 0; i < 100; ++i) cyrillic += "ж";
  EXPECT_EQ(EstimateTokens(cyrillic), 40);
}

}  // namespace
}  // namespace sluice::answer
