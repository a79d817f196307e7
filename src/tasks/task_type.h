// A task type: a named kind of model work (classify a ticket, summarize a call) with versioned
// prompts, an output schema, a route and defaults for its jobs. Loaded from tasks/<name>.toml by
// the TaskRegistry (API.md "Task types") and immutable afterwards, so any thread may read it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/time.h"
#include "tasks/schema_validator.h"

namespace sluice {

// A JSON Schema from tasks/schemas/<name>.json that answers must satisfy.
struct ResponseSchema {
  std::string name;             // the file stem; also the json_schema name sent to the model
  boost::json::value document;  // the parsed schema
  SchemaValidator validator;    // compiled once, at load
};

// "A valid answer whose `field` is under `below` goes to review" (e.g. low confidence).
struct ReviewRule {
  std::string field;  // a top-level property of the version's schema
  double below = 0;
};

// One version of a task type's prompt. A version that has been used is never edited, only
// followed by a new one: results record the version id, and `fingerprint` lets the server
// refuse to start when a used version's content changed underneath its results.
struct TaskVersion {
  std::string id;      // "v2"; unique within its task type
  std::string system;  // template; may be empty (then no system message is sent)
  std::string user;    // template; {{text}}, {{object_id}}, {{metadata.x}}
  // The output schema; null for free-text tasks. Shared with other versions naming it.
  std::shared_ptr<const ResponseSchema> schema;
  boost::json::object params;      // sent to the model, under the job's own params
  std::string params_json = "{}";  // `params` serialized
  std::optional<ReviewRule> review;
  bool mask_pii = false;    // mask PII before the provider sees the text
  std::string fingerprint;  // see tasks/fingerprint.h

  const std::string& schema_name() const;  // "" when there is no schema
};

struct TaskType {
  std::string name;         // equals the file stem
  std::string description;  // for people; optional
  std::string queue = "default";
  int max_attempts = 3;
  std::optional<Millis> deadline_in;  // default relative deadline of its jobs
  std::optional<Millis> run_in;       // default delay before its jobs may run
  std::string model;                  // model alias; "" = the server's default route
  // Ordered as in the file; the last one is current. Empty only for a pipeline.
  std::vector<TaskVersion> versions;
  // A pipeline runs these task types in order, each step's input being the previous step's
  // output. Steps are plain task types (never pipelines); a pipeline has no versions.
  std::vector<std::string> steps;

  bool is_pipeline() const { return !steps.empty(); }
  // nullptr when no version has this id.
  const TaskVersion* find_version(std::string_view id) const;
  // The version new jobs get by default; nullptr for a pipeline.
  const TaskVersion* current() const;
};

}  // namespace sluice
