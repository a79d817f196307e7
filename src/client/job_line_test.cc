#include "client/job_line.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sluice::client {
namespace {

namespace json = boost::json;

json::object Body(std::string_view line, const std::string& type = "classify_ticket") {
  auto body = JobBodyFromLine(line, type);
  EXPECT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_TRUE(body.ok() && body->has_value());
  return body.ok() && *body ? **body : json::object{};
}

TEST(JobLineTest, AStringIsTheInputText) {
  EXPECT_EQ(json::value(Body(R"("charged twice")")),
            json::parse(R"({"type":"classify_ticket","input":{"text":"charged twice"}})"));
}

TEST(JobLineTest, TextIsShortForInputAndOtherFieldsStay) {
  EXPECT_EQ(json::value(Body(R"({"text":"hi","object_id":"t-1","priority":7})")),
            json::parse(R"({"type":"classify_ticket","object_id":"t-1","priority":7,"input":{"text":"hi"}})"));
}

TEST(JobLineTest, AFullJobKeepsItsOwnType) {
  EXPECT_EQ(json::value(Body(R"({"type":"summarize","input":{"text":"x"}})")),
            json::parse(R"({"type":"summarize","input":{"text":"x"}})"));
  EXPECT_EQ(json::value(Body(R"({"type":"summarize","input":{"text":"x"}})", "")),
            json::parse(R"({"type":"summarize","input":{"text":"x"}})"));
}

// A file written for something else (demo/tickets.jsonl): its id field becomes object_id, its
// text field the input, and its other fields go to metadata (or away) and are named.
TEST(JobLineTest, ForeignFieldsMapToTheJob) {
  const std::string line = R"({"id":"T-1","body":"card blocked","channel":"chat","metadata":{"team":"a"}})";
  LineFields fields{.text_field = "body", .id_field = "id", .extra = LineFields::Extra::kMetadata};
  std::vector<std::string> extras;
  auto body = JobBodyFromLine(line, "classify_ticket", fields, &extras);
  ASSERT_TRUE(body.ok() && *body) << body.status().ToString();
  EXPECT_EQ(json::value(**body), json::parse(R"({"type":"classify_ticket","object_id":"T-1",
      "metadata":{"team":"a","channel":"chat"},"input":{"text":"card blocked"}})"));
  EXPECT_EQ(extras, std::vector<std::string>{"channel"});

  fields.extra = LineFields::Extra::kIgnore;
  extras.clear();
  body = JobBodyFromLine(R"({"id":7,"body":"x","channel":"chat"})", "classify_ticket", fields, &extras);
  ASSERT_TRUE(body.ok() && *body);
  EXPECT_EQ(json::value(**body), json::parse(R"({"type":"classify_ticket","object_id":"7","input":{"text":"x"}})"));
  EXPECT_EQ(extras, std::vector<std::string>{"channel"});

  // By default extras stay, for the server to refuse; a full job body is never remapped.
  body = JobBodyFromLine(R"({"text":"x","channel":"chat"})", "classify_ticket");
  ASSERT_TRUE(body.ok() && *body);
  EXPECT_TRUE((*body)->contains("channel"));
  body = JobBodyFromLine(R"({"type":"summarize","id":"T-1","input":{"text":"x"}})", "", fields);
  ASSERT_TRUE(body.ok() && *body);
  EXPECT_TRUE((*body)->contains("id"));
  EXPECT_FALSE(JobBodyFromLine(R"({"id":"T-1","object_id":"o","body":"x"})", "t", fields).ok());
  EXPECT_FALSE(JobBodyFromLine(R"({"body":"x","metadata":"m","channel":"c"})", "t",
                               {.text_field = "body", .extra = LineFields::Extra::kMetadata}).ok());
}

TEST(JobLineTest, BlankLinesAreNoJob) {
  auto body = JobBodyFromLine("  \t\r", "t");
  ASSERT_TRUE(body.ok());
  EXPECT_FALSE(body->has_value());
}

TEST(JobLineTest, BadLinesSayWhy) {
  struct Case {
    const char* line;
    std::string type;
    const char* says;
  } cases[] = {
      {"{nope", "t", "not valid JSON"},
      {"42", "t", "must be a JSON object"},
      {"[1]", "t", "must be a JSON object"},
      {"\"\"", "t", "empty"},
      {R"({"text":"a","input":{"text":"b"}})", "t", "not both"},
      {R"({"text":"a"})", "", "no \"type\""},
      {R"("a")", "", "no \"type\""},
  };
  for (const auto& c : cases) {
    auto body = JobBodyFromLine(c.line, c.type);
    ASSERT_FALSE(body.ok()) << c.line;
    EXPECT_NE(body.status().message().find(c.says), std::string::npos) << body.status().message();
  }
}

TEST(JobLineTest, OptionsAreDefaultsTheLineMayOverride) {
  json::object body = Body(R"({"text":"x","queue":"urgent"})");
  SetDefault(body, "queue", "batch");
  SetDefault(body, "priority", 2);
  EXPECT_EQ(body.at("queue"), "urgent");
  EXPECT_EQ(body.at("priority"), 2);
}

TEST(JobLineTest, BatchDedupKeysAreDeterministicAndPerLine) {
  json::object a = Body(R"("same text")");
  json::object b = Body(R"("same text")");
  json::object c = Body(R"("same text")");
  std::string ka = AssignBatchDedupKey(a, 1, "batch");
  EXPECT_EQ(ka.rfind("batch:", 0), 0u);
  EXPECT_EQ(ka.size(), std::string("batch:").size() + 32);
  EXPECT_EQ(a.at("dedup_key").as_string(), ka);
  EXPECT_EQ(AssignBatchDedupKey(b, 1, "batch"), ka);  // the same line again: the same key
  EXPECT_NE(AssignBatchDedupKey(c, 2, "batch"), ka);  // the same text on another line: another job
  json::object d = Body(R"("same text")");
  EXPECT_NE(AssignBatchDedupKey(d, 1, "rerun"), ka);  // another prefix: a new run
  json::object other_type = Body(R"("same text")", "summarize");
  EXPECT_NE(AssignBatchDedupKey(other_type, 1, "batch"), ka);
}

TEST(JobLineTest, OwnDedupKeyOrObjectIdIsKept) {
  json::object own = Body(R"({"text":"x","dedup_key":"mine"})");
  EXPECT_EQ(AssignBatchDedupKey(own, 1, "batch"), "");
  EXPECT_EQ(own.at("dedup_key"), "mine");
  json::object with_object = Body(R"({"text":"x","object_id":"t-9"})");
  EXPECT_EQ(AssignBatchDedupKey(with_object, 1, "batch"), "");
  EXPECT_FALSE(with_object.contains("dedup_key"));  // the server's <type>:<object_id>:<version>
}

}  // namespace
}  // namespace sluice::client
