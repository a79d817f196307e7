#include "privacy/chat_masking.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::privacy {
namespace {

namespace json = boost::json;

TEST(ChatMaskingTest, MasksStringAndTextPartContentsAndNothingElse) {
  json::object request = json::parse(R"({
    "model": "a@x.io",
    "temperature": 0,
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "I am a@x.io"},
      {"role": "user", "content": [{"type": "text", "text": "card 4111111111111111"},
                                   {"type": "image_url", "image_url": {"url": "http://h/a@x.io"}}]}
    ]})").as_object();
  PiiMapping mapping;
  MaskChatRequest(PiiMasker::Builtin(), request, mapping);
  const json::array& m = request.at("messages").as_array();
  EXPECT_EQ(m[1].at("content"), "I am [EMAIL_1]");
  EXPECT_EQ(m[2].at("content").as_array()[0].at("text"), "card [CARD_1]");
  EXPECT_EQ(m[2].at("content").as_array()[1].at("image_url").at("url"), "http://h/a@x.io");
  EXPECT_EQ(request.at("model"), "a@x.io");  // the alias, not customer text
}

TEST(ChatMaskingTest, UnmasksEveryChoiceMessageAndDelta) {
  PiiMapping mapping;
  PiiMasker::Builtin().mask("a@x.io", mapping);
  json::object completion = json::parse(R"({"choices": [
      {"message": {"role": "assistant", "content": "Reply to [EMAIL_1]"}},
      {"delta": {"content": "[EMAIL_1]!"}}], "id": "[EMAIL_1]"})").as_object();
  UnmaskChatCompletion(completion, mapping);
  EXPECT_EQ(completion.at("choices").as_array()[0].at("message").at("content"), "Reply to a@x.io");
  EXPECT_EQ(completion.at("choices").as_array()[1].at("delta").at("content"), "a@x.io!");
  EXPECT_EQ(completion.at("id"), "[EMAIL_1]");
}

}  // namespace
}  // namespace sluice::privacy
