#include "tasks/task_type.h"

namespace sluice {

const std::string& TaskVersion::schema_name() const {
  static const std::string kNone;
  return schema ? schema->name : kNone;
}

const TaskVersion* TaskType::find_version(std::string_view id) const {
  for (const TaskVersion& v : versions) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

const TaskVersion* TaskType::current() const {
  return versions.empty() ? nullptr : &versions.back();
}

}  // namespace sluice
