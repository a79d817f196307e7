// The task registry: every task type of the tasks dir (API.md "Task types"), loaded once at
// start. Immutable after Load, so any number of threads may read it without locks; pointers it
// hands out live as long as the registry.
//
// Layout of the dir:
//   <dir>/<name>.toml           one task type per file; its `name` must equal the file stem
//   <dir>/schemas/<name>.json   JSON Schemas, referred to by versions as `schema = "<name>"`
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tasks/task_type.h"

namespace sluice {

class TaskRegistry {
 public:
  // Reads, checks and compiles the whole dir. Any problem fails the load, with an
  // InvalidArgument naming the file, line and key: a missing name, no versions, a duplicate
  // version id, an unknown schema, a bad duration, an unknown key, an invalid schema, a
  // template with a malformed tag, a review rule on a field the schema lacks, a pipeline step
  // that is not a task type. A dir that does not exist is NotFound.
  static Result<TaskRegistry> Load(const std::string& dir);

  // nullptr when there is no such task type.
  const TaskType* find(std::string_view name) const;
  // Every task type's name, sorted.
  std::vector<std::string> names() const;
  // A schema of the schemas dir by name, whether or not a version uses it (a job may name
  // one as its response_schema); nullptr when there is none.
  const ResponseSchema* find_schema(std::string_view name) const;

 private:
  std::map<std::string, TaskType, std::less<>> types_;
  std::map<std::string, std::shared_ptr<const ResponseSchema>, std::less<>> schemas_;
};

}  // namespace sluice
