// The TOML format of one task type file (API.md "Task types"):
//
//   name = "classify_ticket"        required; equals the file stem; not "chat"
//   description = "..."             optional, for people
//   queue = "default"               optional (default "default")
//   max_attempts = 3                optional, 1..100 (default 3)
//   deadline_in = "10m"             optional duration
//   run_in = "0s"                   optional duration
//   model = "fast"                  optional model alias
//   [[version]]                     one or more, in order; the last is current
//   id = "v2"                       required, unique, [A-Za-z0-9_.-]
//   system = "..."                  optional template
//   user = "..."                    required template
//   schema = "ticket_class_v1"      optional; tasks/schemas/<schema>.json
//   params = {temperature = 0}      optional; may not set model, messages, response_format, stream
//   review = {field = "confidence", below = 0.6}   optional; needs a schema with that property
//   mask_pii = true                 optional (default false)
// or, for a pipeline, `steps = ["a", "b"]` instead of versions (checked by the registry, which
// knows the other task types). Any other key is an error: a typo must not silently change what
// a task does.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tasks/task_type.h"

namespace sluice {

using SchemaMap = std::map<std::string, std::shared_ptr<const ResponseSchema>, std::less<>>;

// Parses one task file's text. `path` is only for messages ("<path>:<line>: <key>: <problem>");
// its stem must equal `name`. Versions get their fingerprints here. InvalidArgument on any
// problem.
Result<TaskType> ParseTaskFile(const std::string& path, std::string_view text,
                               const SchemaMap& schemas);

// True for names usable as task type, version and schema names: [A-Za-z0-9_.-]+, no leading dot.
bool IsValidTaskName(std::string_view name);

}  // namespace sluice
