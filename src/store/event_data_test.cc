#include "store/event_data.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(EventDataTest, BuildsAFlatObjectWithANestedError) {
  EXPECT_EQ(EventData().str(), "{}");
  std::string json = EventData()
                         .add("attempt", 2)
                         .add("owner", "node-a")
                         .add_error(JobError{"timeout", "no answer"})
                         .add_time("retry_at", 0)
                         .str();
  EXPECT_EQ(json,
            R"({"attempt":2,"owner":"node-a","error":{"code":"timeout","message":"no answer"},)"
            R"("retry_at":"1970-01-01T00:00:00.000Z"})");
}

TEST(EventDataTest, EscapesWhatJsonRequires) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\te\x01 é 日本");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\te\\u0001 é 日本\"");
}

TEST(EventDataTest, ReplacesInvalidUtf8) {
  std::string out;
  AppendJsonString(out, std::string("ok\xff\xc3(\xed\xa0\x80!", 9));
  EXPECT_EQ(out, "\"ok\\ufffd\\ufffd(\\ufffd\\ufffd\\ufffd!\"");
}

}  // namespace
}  // namespace sluice
