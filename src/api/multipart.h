// multipart/form-data bodies (RFC 7578), as POST /v1/files receives them. Parts point into the
// body: parsing copies no content, so a 200 MB upload is held once, in the request. What a part
// costs beyond its bytes (its record, its headers) is bounded by MultipartLimits, so a body of
// many tiny parts cannot multiply the memory of the body it came in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace sluice {

struct MultipartPart {
  std::string name;          // the form field's name
  std::string filename;      // empty unless the part is a file
  std::string content_type;  // the part's own Content-Type, empty when absent
  std::string_view data;     // into the body
};

// The boundary of a "multipart/form-data; boundary=..." Content-Type; kUnsupportedMediaType
// for any other type, kInvalidArgument when the boundary is missing.
Result<std::string> MultipartBoundary(std::string_view content_type);

struct MultipartLimits {
  std::size_t max_parts = 16;            // a file upload has two (purpose, file)
  std::size_t max_part_head = 16 << 10;  // bytes of one part's header lines
};

// Splits `body` into its parts. kInvalidArgument (invalid_multipart) when it is not
// well-formed or goes past `limits`.
Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits = {});

}  // namespace sluice
