#include "tasks/task_file.h"

#include <toml++/toml.h>

#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <set>
#include <sstream>

#include "tasks/fingerprint.h"
#include "tasks/prompt.h"

namespace sluice {

namespace json = boost::json;

namespace {

constexpr int kMaxAttemptsLimit = 100;

bool IsNameChars(std::string_view name, bool allow_dot) {
  if (name.empty() || name.front() == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' &&
        !(allow_dot && c == '.')) {
      return false;
    }
  }
  return true;
}

// Reads one TOML table, remembering which keys were asked for so that whatever is left over
// can be reported as unknown. Every error names the file, the line and the key's full path.
class TableReader {
 public:
  TableReader(const std::string& file, const toml::table& table, std::string prefix)
      : file_(file), table_(table), prefix_(std::move(prefix)) {}

  // The node under `key`, or nullptr; either way `key` becomes known.
  const toml::node* Get(std::string_view key) {
    known_.insert(std::string(key));
    return table_.get(key);
  }

  Status Error(const toml::node* at, std::string_view key, const std::string& problem) const {
    // A key that is absent has no line of its own: point at its [[version]] header, but not
    // at line 1 for a top-level key, which would suggest that line is at fault.
    std::string where = file_;
    const toml::node* line_of = at != nullptr ? at : prefix_.empty() ? nullptr : &table_;
    if (line_of != nullptr && line_of->source().begin.line > 0) {
      where += ":" + std::to_string(line_of->source().begin.line);
    }
    return InvalidArgument(where + ": " + Path(key) + ": " + problem);
  }

  std::string Path(std::string_view key) const {
    return prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
  }

  Status String(std::string_view key, std::string& out, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr)
      return required ? Error(nullptr, key, "missing (a string is required)") : Status::Ok();
    if (!n->is_string()) return Error(n, key, "must be a string");
    out = **n->as_string();
    return Status::Ok();
  }

  Status NonEmptyString(std::string_view key, std::string& out) {
    const toml::node* n = table_.get(key);
    RETURN_IF_ERROR(String(key, out, false));
    if (n != nullptr && out.empty()) return Error(n, key, "must not be empty");
    return Status::Ok();
  }

  Status Bool(std::string_view key, bool& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_boolean()) return Error(n, key, "must be true or false");
    out = **n->as_boolean();
    return Status::Ok();
  }

  Status Int(std::string_view key, int& out, int min, int max) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_integer() || **n->as_integer() < min || **n->as_integer() > max) {
      return Error(n, key,
                   "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    }
    out = static_cast<int>(**n->as_integer());
    return Status::Ok();
  }

  Status Number(std::string_view key, double& out, bool required) {
    const toml::node* n = Get(key);
    if (n == nullptr)
      return required ? Error(nullptr, key, "missing (a number is required)") : Status::Ok();
    if (n->is_integer()) {
      out = static_cast<double>(**n->as_integer());
    } else if (n->is_floating_point() && std::isfinite(**n->as_floating_point())) {
      out = **n->as_floating_point();
    } else {
      return Error(n, key, "must be a number");
    }
    return Status::Ok();
  }

  Status Duration(std::string_view key, std::optional<Millis>& out) {
    const toml::node* n = Get(key);
    if (n == nullptr) return Status::Ok();
    if (!n->is_string()) return Error(n, key, "must be a duration string like \"30s\" or \"10m\"");
    Result<Millis> d = ParseDuration(**n->as_string());
    if (!d.ok()) return Error(n, key, d.status().message());
    out = *d;
    return Status::Ok();
  }

  Status CheckNoUnknownKeys() const {
    for (const auto& [key, node] : table_) {
      if (!known_.count(std::string(key.str()))) {
        return Error(&node, key.str(), "unknown key");
      }
    }
    return Status::Ok();
  }

  const std::string& file() const { return file_; }

 private:
  const std::string& file_;
  const toml::table& table_;
  std::string prefix_;
  std::set<std::string> known_;
};

// TOML values as JSON, for params. Dates and times become their TOML text.
Result<json::value> TomlToJson(const toml::node& n) {
  if (auto* s = n.as_string()) return json::value(s->get());
  if (auto* i = n.as_integer()) return json::value(i->get());
  if (auto* b = n.as_boolean()) return json::value(b->get());
  if (auto* f = n.as_floating_point()) {
    if (!std::isfinite(f->get())) return InvalidArgument("inf and nan have no JSON form");
    return json::value(f->get());
  }
  if (auto* a = n.as_array()) {
    json::array out;
    for (const toml::node& item : *a) {
      ASSIGN_OR_RETURN(json::value v, TomlToJson(item));
      out.push_back(std::move(v));
    }
    return json::value(std::move(out));
  }
  if (auto* t = n.as_table()) {
    json::object out;
    for (const auto& [key, item] : *t) {
      ASSIGN_OR_RETURN(json::value v, TomlToJson(item));
      out[key.str()] = std::move(v);
    }
    return json::value(std::move(out));
  }
  std::ostringstream text;
  if (auto* d = n.as_date()) text << *d;
  if (auto* t = n.as_time()) text << *t;
  if (auto* dt = n.as_date_time()) text << *dt;
  return json::value(text.str());
}

Status ReadTemplate(TableReader& r, std::string_view key, std::string& out, bool required) {
  const toml::node* n = r.Get(key);
  RETURN_IF_ERROR(r.String(key, out, required));
  if (n == nullptr) return Status::Ok();
  Result<std::vector<std::string>> vars = TemplateVariables(out);
  if (!vars.ok()) return r.Error(n, key, vars.status().message());
  return Status::Ok();
}

Status ReadParams(TableReader& r, TaskVersion& v) {
  const toml::node* n = r.Get("params");
  if (n == nullptr) return Status::Ok();
  if (!n->is_table()) return r.Error(n, "params", "must be a table, like {temperature = 0}");
  for (const auto& [key, item] : *n->as_table()) {
    std::string path = "params." + std::string(key.str());
    if (IsReservedParam(key.str()))
      return r.Error(
          &item, path,
          "is set by the server, not by params: " + std::string(ReservedParamReason(key.str())));
    Result<json::value> value = TomlToJson(item);
    if (!value.ok()) return r.Error(&item, path, value.status().message());
    v.params[key.str()] = std::move(*value);
  }
  v.params_json = json::serialize(v.params);
  return Status::Ok();
}

// The review rule reads a number out of a valid answer, so the schema must promise that field.
Status ReadReview(TableReader& r, std::string_view prefix, TaskVersion& v) {
  const toml::node* n = r.Get("review");
  if (n == nullptr) return Status::Ok();
  if (!n->is_table())
    return r.Error(n, "review", "must be a table, like {field = \"confidence\", below = 0.6}");
  TableReader review(r.file(), *n->as_table(), std::string(prefix) + ".review");
  ReviewRule rule;
  RETURN_IF_ERROR(review.String("field", rule.field, true));
  RETURN_IF_ERROR(review.Number("below", rule.below, true));
  RETURN_IF_ERROR(review.CheckNoUnknownKeys());
  if (!v.schema)
    return r.Error(n, "review", "needs a schema (a review rule reads the answer's fields)");
  const json::value& doc = v.schema->document;
  const json::object* props = doc.is_object() && doc.get_object().contains("properties") &&
                                      doc.get_object().at("properties").is_object()
                                  ? &doc.get_object().at("properties").get_object()
                                  : nullptr;
  if (props != nullptr && !props->contains(rule.field)) {
    return r.Error(n, "review.field",
                   "schema '" + v.schema->name + "' has no property '" + rule.field + "'");
  }
  v.review = std::move(rule);
  return Status::Ok();
}

Result<TaskVersion> ReadVersion(const std::string& file, const toml::table& table, size_t index,
                                const SchemaMap& schemas) {
  std::string prefix = "version[" + std::to_string(index) + "]";
  TableReader r(file, table, prefix);
  TaskVersion v;
  const toml::node* id_node = table.get("id");
  RETURN_IF_ERROR(r.String("id", v.id, true));
  if (!IsNameChars(v.id, true)) {
    return r.Error(id_node, "id", "'" + v.id + "' is not a valid id (use letters, digits, _ - .)");
  }
  RETURN_IF_ERROR(ReadTemplate(r, "system", v.system, false));
  RETURN_IF_ERROR(ReadTemplate(r, "user", v.user, true));
  std::string schema_name;
  const toml::node* schema_node = table.get("schema");
  RETURN_IF_ERROR(r.String("schema", schema_name, false));
  if (schema_node != nullptr) {
    auto it = schemas.find(schema_name);
    if (it == schemas.end()) {
      return r.Error(schema_node, "schema",
                     "unknown schema '" + schema_name + "' (no schemas/" + schema_name + ".json)");
    }
    v.schema = it->second;
  }
  RETURN_IF_ERROR(ReadParams(r, v));
  RETURN_IF_ERROR(ReadReview(r, prefix, v));
  RETURN_IF_ERROR(r.Bool("mask_pii", v.mask_pii));
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  v.fingerprint = VersionFingerprint(v);
  return v;
}

Status ReadVersions(TableReader& r, const SchemaMap& schemas, TaskType& type) {
  const toml::node* n = r.Get("version");
  if (n == nullptr) return Status::Ok();
  const toml::array* arr = n->as_array();
  if (arr == nullptr || !arr->is_array_of_tables()) {
    return r.Error(n, "version", "must be an array of tables ([[version]] sections)");
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    ASSIGN_OR_RETURN(TaskVersion v,
                     ReadVersion(r.file(), *arr->get(i)->as_table(), i + 1, schemas));
    if (const TaskVersion* earlier = type.find_version(v.id)) {
      size_t earlier_index = static_cast<size_t>(earlier - type.versions.data()) + 1;
      return r.Error(arr->get(i)->as_table()->get("id"),
                     "version[" + std::to_string(i + 1) + "].id",
                     "duplicate version id '" + v.id + "' (also version[" +
                         std::to_string(earlier_index) + "])");
    }
    type.versions.push_back(std::move(v));
  }
  return Status::Ok();
}

Status ReadSteps(TableReader& r, TaskType& type) {
  const toml::node* n = r.Get("steps");
  if (n == nullptr) return Status::Ok();
  const toml::array* arr = n->as_array();
  if (arr == nullptr || arr->empty())
    return r.Error(n, "steps", "must be a non-empty array of task type names");
  for (const toml::node& step : *arr) {
    if (!step.is_string()) return r.Error(&step, "steps", "must hold task type names (strings)");
    type.steps.push_back(**step.as_string());
  }
  return Status::Ok();
}

}  // namespace

bool IsValidTaskName(std::string_view name) {
  return IsNameChars(name, false);
}

Result<TaskType> ParseTaskFile(const std::string& path, std::string_view text,
                               const SchemaMap& schemas) {
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(path + ":" + std::to_string(e.source().begin.line) +
                           ": not valid TOML: " + std::string(e.description()));
  }
  TableReader r(path, root, "");
  TaskType type;
  const toml::node* name_node = root.get("name");
  RETURN_IF_ERROR(r.String("name", type.name, true));
  std::string stem = std::filesystem::path(path).stem().string();
  if (type.name != stem) {
    return r.Error(name_node, "name",
                   "'" + type.name + "' must equal the file name '" + stem + "'");
  }
  if (!IsValidTaskName(type.name) || type.name == "chat") {
    return r.Error(name_node, "name",
                   "'" + type.name +
                       "' is not a valid task type name (letters, digits, _ -; "
                       "\"chat\" is reserved)");
  }
  RETURN_IF_ERROR(r.String("description", type.description, false));
  RETURN_IF_ERROR(r.NonEmptyString("queue", type.queue));
  RETURN_IF_ERROR(r.Int("max_attempts", type.max_attempts, 1, kMaxAttemptsLimit));
  RETURN_IF_ERROR(r.Duration("deadline_in", type.deadline_in));
  if (type.deadline_in && *type.deadline_in <= 0) {
    return r.Error(root.get("deadline_in"), "deadline_in", "must be longer than zero");
  }
  RETURN_IF_ERROR(r.Duration("run_in", type.run_in));
  RETURN_IF_ERROR(r.NonEmptyString("model", type.model));
  RETURN_IF_ERROR(ReadVersions(r, schemas, type));
  RETURN_IF_ERROR(ReadSteps(r, type));
  RETURN_IF_ERROR(r.CheckNoUnknownKeys());
  if (type.versions.empty() && type.steps.empty()) {
    return r.Error(root.get("version"), "version",
                   "no versions: add at least one [[version]] (or `steps` for a pipeline)");
  }
  if (!type.versions.empty() && !type.steps.empty()) {
    return r.Error(root.get("steps"), "steps",
                   "a pipeline has steps instead of versions, not both");
  }
  return type;
}

}  // namespace sluice
