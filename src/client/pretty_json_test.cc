#include "client/pretty_json.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace sluice::client {
namespace {

TEST(PrettyJsonTest, IndentsAndKeepsOrderAndPrintsNumbersForPeople) {
  boost::json::value v = boost::json::parse(R"({"b":1,"a":[0.93,"x",{}],"c":{"d":null},"e":[]})");
  EXPECT_EQ(PrettyJson(v),
            "{\n  \"b\": 1,\n  \"a\": [\n    0.93,\n    \"x\",\n    {}\n  ],\n  \"c\": {\n    \"d\": null\n  },\n"
            "  \"e\": []\n}");
}

}  // namespace
}  // namespace sluice::client
