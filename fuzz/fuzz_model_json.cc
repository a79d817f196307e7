// What a model answers (tasks/schema_validator.h): ParseModelJson over arbitrary text (fences,
// prose around JSON, truncation), then validation against a compiled response schema, as the
// worker does with every answer. Input from a model is not trusted.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tasks/schema_validator.h"

namespace {

constexpr char kSchema[] = R"({"type": "object", "required": ["label", "confidence"],
  "properties": {"label": {"type": "string", "enum": ["billing", "bug", "other"]},
                 "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                 "fields": {"type": "array", "maxItems": 8,
                            "items": {"type": "string", "pattern": "^[a-z_]{1,32}$"}}}})";

const sluice::SchemaValidator& Validator() {
  static const sluice::SchemaValidator* validator = [] {
    auto compiled = sluice::SchemaValidator::Compile(boost::json::parse(kSchema));
    if (!compiled.ok()) std::abort();
    return new sluice::SchemaValidator(std::move(*compiled));
  }();
  return *validator;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto answer = sluice::ParseModelJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!answer.ok()) return 0;
  (void)Validator().Validate(*answer);
  return 0;
}
