// JSON Schema validation of model output (valijson underneath, kept out of this header).
// A schema is compiled once, when the task registry loads, and then checks every answer of
// every job that names it.
#pragma once

#include <boost/json/value.hpp>
#include <memory>
#include <string_view>

#include "core/status.h"

namespace sluice {

class SchemaValidator {
 public:
  // Compiles a JSON Schema (draft 7). A document that is not a valid schema (a non-object,
  // "type": 5, a malformed "required", an unresolvable "$ref") is InvalidArgument.
  static Result<SchemaValidator> Compile(const boost::json::value& schema);

  // OK when `doc` satisfies the schema. Otherwise InvalidArgument whose message lists the first
  // few violations with their JSON paths, e.g.
  //   "category: value 'refund' not in enum [double_charge, ...]; urgent: expected boolean, got
  //   string"
  // and whose field() is the path of the first one ("" for the document itself).
  // Thread-safe: any number of threads may validate against one SchemaValidator at once.
  Status Validate(const boost::json::value& doc) const;

  // The schema document as given to Compile.
  const boost::json::value& schema() const;

 private:
  struct Compiled;
  explicit SchemaValidator(std::shared_ptr<const Compiled> compiled);

  // Immutable after Compile, hence shared by copies and safe to read from many threads.
  std::shared_ptr<const Compiled> compiled_;
};

// Reads the JSON a model answered. Tolerates surrounding whitespace and a Markdown fence
// (```json ... ``` or ``` ... ```), even with prose before or after it, since models add them
// despite being asked not to. Anything else that is not one JSON value — empty text, prose,
// truncated JSON, trailing garbage — is InvalidArgument quoting the start of the text.
Result<boost::json::value> ParseModelJson(std::string_view text);

}  // namespace sluice
