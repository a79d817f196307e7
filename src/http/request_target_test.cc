#include "http/request_target.h"

#include <gtest/gtest.h>

#include "http/server.h"

namespace sluice::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

TEST(RequestTargetTest, DecodesPathAndQueryInOrder) {
  std::string path;
  Pairs query;
  ASSERT_TRUE(DecodeRequestTarget("/v1/jobs/a%20b?wait=30s&q=x%26y&name=John+Doe&flag&wait=2", path,
                                  query));
  EXPECT_EQ(path, "/v1/jobs/a b");
  EXPECT_EQ(
      query,
      (Pairs{{"wait", "30s"}, {"q", "x&y"}, {"name", "John Doe"}, {"flag", ""}, {"wait", "2"}}));
}

TEST(RequestTargetTest, AcceptsAbsoluteForm) {
  std::string path;
  Pairs query;
  ASSERT_TRUE(DecodeRequestTarget("http://example.com/v1/models?x=1", path, query));
  EXPECT_EQ(path, "/v1/models");
  EXPECT_EQ(query, (Pairs{{"x", "1"}}));
}

TEST(RequestTargetTest, RejectsMalformedTargets) {
  std::string path;
  Pairs query;
  EXPECT_FALSE(DecodeRequestTarget("/bad%zzescape", path, query));
  EXPECT_FALSE(DecodeRequestTarget("/a b", path, query));
  EXPECT_FALSE(DecodeRequestTarget("", path, query));
  // An encoded slash would split a decoded segment in two.
  EXPECT_FALSE(DecodeRequestTarget("/v1/jobs/job_1%2Fcancel", path, query));
  EXPECT_FALSE(DecodeRequestTarget("/v1/jobs/job_1%2fcancel", path, query));
  EXPECT_TRUE(DecodeRequestTarget("/v1/jobs?q=a%2Fb", path, query));  // in the query it is data
  EXPECT_FALSE(DecodeRequestTarget("not a target", path, query));
}

TEST(RequestTest, HeaderLookupIgnoresCaseAndQueryParamTakesTheFirst) {
  Request request;
  request.headers = {{"Content-Type", "application/json"}, {"X-Id", "1"}};
  request.query = {{"a", "1"}, {"a", "2"}};
  EXPECT_EQ(request.header("content-type"), "application/json");
  EXPECT_EQ(request.header("missing"), "");
  EXPECT_EQ(request.query_param("a"), "1");
  EXPECT_FALSE(request.query_param("b").has_value());
}

}  // namespace
}  // namespace sluice::http
