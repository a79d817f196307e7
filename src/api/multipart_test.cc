#include "api/multipart.h"

#include <gtest/gtest.h>

namespace sluice {
namespace {

TEST(MultipartTest, BoundaryFromTheContentType) {
  EXPECT_EQ(*MultipartBoundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(*MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a b;c\""), "a b;c");
  EXPECT_EQ(MultipartBoundary("application/json").status().code(),
            StatusCode::kUnsupportedMediaType);
  EXPECT_EQ(MultipartBoundary("").status().code(), StatusCode::kUnsupportedMediaType);
  EXPECT_EQ(MultipartBoundary("multipart/form-data").status().code(), StatusCode::kInvalidArgument);
}

TEST(MultipartTest, FieldsAndFilesPointIntoTheBody) {
  using namespace std::string_literals;  // ""s: the NUL inside is part of the file
  const std::string content = "{\"a\":1}\r\n--notquite\n\0bytes"s;
  const std::string body = "preamble\r\n--XyZ\r\n"
                           "Content-Disposition: form-data; name=\"purpose\"\r\n\r\n"
                           "batch\r\n--XyZ\r\n"
                           "content-disposition: form-data; name=\"file\"; filename=\"in put.jsonl\"\r\n"
                           "Content-Type: application/jsonl\r\n\r\n" +
                           content + "\r\n--XyZ--\r\n";
  auto parts = ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "purpose");
  EXPECT_EQ((*parts)[0].data, "batch");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "in put.jsonl");
  EXPECT_EQ((*parts)[1].content_type, "application/jsonl");
  EXPECT_EQ((*parts)[1].data, content);
  EXPECT_GE((*parts)[1].data.data(), body.data());
  EXPECT_LT((*parts)[1].data.data(), body.data() + body.size());
}

TEST(MultipartTest, MalformedBodiesAreRefused) {
  for (const char* body :
       {"", "no boundary at all", "--b\r\nContent-Disposition: form-data; name=x\r\n\r\nvalue",
        "--b\r\nno colon\r\n\r\nv\r\n--b--", "--bjunk"}) {
    auto parts = ParseMultipart(body, "b");
    EXPECT_EQ(parts.status().code(), StatusCode::kInvalidArgument) << body;
  }
  auto empty = ParseMultipart("--b--\r\n", "b");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

// A body of many empty parts (the memory multiplier) and a part with endless header lines are
// refused at the bound, not parsed to the end.
TEST(MultipartTest, PartsAndPartHeadersAreBounded) {
  std::string many;
  for (int i = 0; i < 17; ++i) many += "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n";
  many += "--b--\r\n";
  auto refused = ParseMultipart(many, "b");
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(refused.status().error_code(), "invalid_multipart");
  EXPECT_NE(refused.status().message().find("more than 16 parts"), std::string::npos)
      << refused.status().message();
  auto allowed = ParseMultipart(many, "b", {.max_parts = 17});
  ASSERT_TRUE(allowed.ok()) << allowed.status().ToString();
  EXPECT_EQ(allowed->size(), 17u);

  std::string long_head = "--b\r\nContent-Disposition: form-data; name=x\r\n";
  for (int i = 0; i < 2000; ++i) long_head += "X-Pad: 0123456789\r\n";
  long_head += "\r\nv\r\n--b--\r\n";
  auto head = ParseMultipart(long_head, "b");
  ASSERT_EQ(head.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(head.status().message().find("headers are longer"), std::string::npos)
      << head.status().message();
  EXPECT_TRUE(ParseMultipart(long_head, "b", {.max_part_head = 64 << 10}).ok());
}

}  // namespace
}  // namespace sluice
