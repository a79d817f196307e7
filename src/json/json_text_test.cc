#include "json/json_text.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <cmath>

namespace sluice {
namespace {

namespace json = boost::json;

TEST(JsonTextTest, WritesDoublesInShortestDecimalForm) {
  EXPECT_EQ(JsonText(json::value(0.5)), "0.5");
  EXPECT_EQ(JsonText(json::value(-0.25)), "-0.25");
  EXPECT_EQ(JsonText(json::value(0.1)), "0.1");
  EXPECT_EQ(JsonText(json::value(0.93)), "0.93");
  // Money and scores as people write them (Boost.JSON: "0E0", "7.769999999999999E-5").
  EXPECT_EQ(JsonText(json::value(0.0)), "0");
  EXPECT_EQ(JsonText(json::value(-0.0)), "0");
  EXPECT_EQ(JsonText(json::value(7.769999999999999e-05)), "0.00007769999999999999");
  EXPECT_EQ(JsonText(json::value(0.0000777)), "0.0000777");
  EXPECT_EQ(JsonText(json::value(2.0)), "2");
  EXPECT_EQ(JsonText(json::value(123456.125)), "123456.125");
  // Exponent form only far from 1.
  EXPECT_EQ(JsonText(json::value(1e21)), "1e+21");
  EXPECT_EQ(JsonText(json::value(1.5e-9)), "1.5e-09");
  // JSON has no NaN or infinity.
  EXPECT_EQ(JsonText(json::value(std::nan(""))), "null");
  EXPECT_EQ(JsonText(json::value(HUGE_VAL)), "null");
}

TEST(JsonTextTest, NumberTextIsTheShortestDecimal) {
  EXPECT_EQ(NumberText(0.55), "0.55");
  EXPECT_EQ(NumberText(0.6), "0.6");
  EXPECT_EQ(NumberText(0.0000777), "0.0000777");
  EXPECT_EQ(NumberText(50.0), "50");
  EXPECT_EQ(NumberText(0.0), "0");
}

TEST(JsonTextTest, EveryDoubleReadsBackTheSame) {
  for (double d : {0.1, 1.0 / 3, 6.285e-05, 1e-7, 9.999999e20, 123.456, 1e300, 5e-324}) {
    const std::string text = JsonText(json::value(d));
    EXPECT_EQ(json::parse(text).as_double(), d) << text;
  }
}

TEST(JsonTextTest, EscapesWhatJsonRequires) {
  const std::string raw("q\"b\\n\nt\tc\x01\x1f end");
  const std::string text = JsonText(json::value(raw));
  EXPECT_EQ(text, R"("q\"b\\n\nt\tc\u0001\u001f end")");
  EXPECT_EQ(json::parse(text).as_string(), raw);
}

TEST(JsonTextTest, WritesCompactJsonThatParsesBack) {
  json::value v = json::parse(R"({"a": [1, 2.5, "x\"y", null, true], "b": {"c": -3}, "é": "ü"})");
  std::string text = JsonText(v);
  EXPECT_EQ(text, R"({"a":[1,2.5,"x\"y",null,true],"b":{"c":-3},"é":"ü"})");
  EXPECT_EQ(json::parse(text), v);
  EXPECT_EQ(JsonText(v.as_object()), text);
  EXPECT_EQ(JsonText(v.at("a").as_array()), R"([1,2.5,"x\"y",null,true])");
}

}  // namespace
}  // namespace sluice
