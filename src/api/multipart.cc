#include "api/multipart.h"

#include <strings.h>

#include <algorithm>
#include <cctype>

namespace sluice {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ::strncasecmp(s.data(), prefix.data(), prefix.size()) == 0;
}

// The value of `key` in "form-data; name=\"file\"; filename=\"a.jsonl\"" (quoted or bare).
std::string Param(std::string_view header, std::string_view key) {
  std::size_t at = 0;
  while (at < header.size()) {
    std::size_t semi = header.find(';', at);
    // A quoted value may hold a ';': find the end of the quotes first.
    std::string_view item =
        Trim(header.substr(at, semi == std::string_view::npos ? header.size() - at : semi - at));
    std::size_t eq = item.find('=');
    if (eq != std::string_view::npos && StartsWithNoCase(item, key) &&
        Trim(item.substr(0, eq)).size() == key.size()) {
      std::string_view value = Trim(header.substr(at)).substr(eq + 1);
      value = Trim(value);
      if (!value.empty() && value.front() == '"') {
        std::string out;
        for (std::size_t i = 1; i < value.size(); ++i) {
          if (value[i] == '\\' && i + 1 < value.size()) {
            out += value[++i];
          } else if (value[i] == '"') {
            break;
          } else {
            out += value[i];
          }
        }
        return out;
      }
      return std::string(Trim(value.substr(0, value.find(';'))));
    }
    if (semi == std::string_view::npos) break;
    at = semi + 1;
  }
  return {};
}

Status Malformed(const std::string& why) {
  return InvalidArgument("the multipart body is malformed: " + why, "body")
      .with_error_code("invalid_multipart");
}

}  // namespace

Result<std::string> MultipartBoundary(std::string_view content_type) {
  if (!StartsWithNoCase(Trim(content_type), "multipart/form-data")) {
    return Status(StatusCode::kUnsupportedMediaType,
                  "expected Content-Type: multipart/form-data, got " +
                      (content_type.empty() ? std::string("none") : std::string(content_type)));
  }
  std::string boundary = Param(content_type, "boundary");
  if (boundary.empty() || boundary.size() > 200) {
    return InvalidArgument("multipart/form-data needs a boundary", "content-type");
  }
  return boundary;
}

Result<std::vector<MultipartPart>> ParseMultipart(std::string_view body, std::string_view boundary,
                                                  const MultipartLimits& limits) {
  const std::string delimiter = "--" + std::string(boundary);
  std::size_t at = body.find(delimiter);
  if (at == std::string_view::npos) return Malformed("no boundary line");
  at += delimiter.size();
  std::vector<MultipartPart> parts;
  const std::string next_delimiter = "\r\n" + delimiter;
  for (;;) {
    if (body.substr(at, 2) == "--") return parts;  // the closing delimiter
    // Transport padding, then the line break that ends the delimiter line.
    while (at < body.size() && (body[at] == ' ' || body[at] == '\t')) ++at;
    if (body.substr(at, 2) != "\r\n") return Malformed("a boundary line does not end in CRLF");
    at += 2;
    if (parts.size() == limits.max_parts) {
      return Malformed("more than " + std::to_string(limits.max_parts) + " parts");
    }
    MultipartPart part;
    const std::size_t head_start = at;
    for (;;) {
      std::size_t eol = body.find("\r\n", at);
      if (eol == std::string_view::npos) return Malformed("a part's headers do not end");
      if (eol - head_start > limits.max_part_head) {
        return Malformed("a part's headers are longer than " +
                         std::to_string(limits.max_part_head) + " bytes");
      }
      std::string_view line = body.substr(at, eol - at);
      at = eol + 2;
      if (line.empty()) break;
      std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) return Malformed("a part header has no ':'");
      std::string_view name = Trim(line.substr(0, colon));
      std::string_view value = Trim(line.substr(colon + 1));
      if (name.size() == 19 && StartsWithNoCase(name, "content-disposition")) {
        part.name = Param(value, "name");
        part.filename = Param(value, "filename");
      } else if (name.size() == 12 && StartsWithNoCase(name, "content-type")) {
        part.content_type = std::string(value);
      }
    }
    std::size_t end = body.find(next_delimiter, at);
    if (end == std::string_view::npos) return Malformed("a part is not closed by the boundary");
    part.data = body.substr(at, end - at);
    parts.push_back(std::move(part));
    at = end + next_delimiter.size();
  }
}

}  // namespace sluice
