// multipart/form-data as POST /v1/files receives it (api/multipart.cc). The input is the
// Content-Type value, a newline, then the body. Every part a parse returns must point into the
// body (parts are views, never copies).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/multipart.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  if (newline == std::string_view::npos) return 0;
  const std::string_view content_type = input.substr(0, newline);
  const std::string_view body = input.substr(newline + 1);
  auto boundary = sluice::MultipartBoundary(content_type);
  if (!boundary.ok()) return 0;
  auto parts = sluice::ParseMultipart(body, *boundary);
  if (!parts.ok()) return 0;
  for (const sluice::MultipartPart& part : *parts) {
    if (part.data.data() < body.data() ||
        part.data.data() + part.data.size() > body.data() + body.size()) {
      __builtin_trap();
    }
  }
  return 0;
}
