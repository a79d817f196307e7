#include "tasks/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, WritesDoublesInShortestDecimalForm) {
  EXPECT_EQ(JsonText(json::value(0.5)), "0.5");
  EXPECT_EQ(JsonText(json::value(-0.25)), "-0.25");
  EXPECT_EQ(JsonText(json::value(0.1)), "0.1");
  EXPECT_EQ(JsonText(json::value(1e21)), "1e+21");
}

TEST(JsonTextTest, WritesCompactJsonThatParsesBack) {
  json::value v = json::parse(R"({"a": [1, 2.5, "x\"y", null, true], "b": {"c": -3}, "é": "ü"})");
  std::string text = JsonText(v);
  EXPECT_EQ(text, R"({"a":[1,2.5,"x\"y",null,true],"b":{"c":-3},"é":"ü"})");
  EXPECT_EQ(json::parse(text), v);
}

}  // namespace
}  // namespace sluice
