#include "tasks/registry.h"

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tasks/task_file.h"

namespace sluice {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// OpenAI limits json_schema names to 64 characters of [A-Za-z0-9_-].
constexpr size_t kMaxSchemaName = 64;

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(path.string() + ": cannot be opened");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return InvalidArgument(path.string() + ": cannot be read");
  return text.str();
}

// Regular files of `dir` ending in `ext`, sorted by name so that loading is deterministic.
std::vector<fs::path> FilesWithExtension(const fs::path& dir, std::string_view ext) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.is_regular_file(ec) && e.path().extension() == ext) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Parses JSON text, reporting the line and column of the first error.
Result<json::value> ParseJsonFile(const fs::path& path, const std::string& text) {
  json::stream_parser parser;
  boost::system::error_code ec;
  size_t consumed = parser.write_some(text.data(), text.size(), ec);
  if (!ec && consumed < text.size()) ec = json::error::extra_data;
  if (!ec) parser.finish(ec);
  if (ec) {
    size_t line = 1 + std::count(text.begin(), text.begin() + consumed, '\n');
    return InvalidArgument(path.string() + ":" + std::to_string(line) +
                           ": not valid JSON: " + ec.message());
  }
  return parser.release();
}

Result<SchemaMap> LoadSchemas(const fs::path& dir) {
  SchemaMap schemas;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return schemas;  // a tasks dir without schemas is fine
  for (const fs::path& path : FilesWithExtension(dir, ".json")) {
    std::string name = path.stem().string();
    if (!IsValidTaskName(name) || name.size() > kMaxSchemaName) {
      return InvalidArgument(path.string() + ": '" + name +
                             "' is not a valid schema name (up to 64 letters, digits, _ -)");
    }
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    ASSIGN_OR_RETURN(json::value doc, ParseJsonFile(path, text));
    Result<SchemaValidator> validator = SchemaValidator::Compile(doc);
    if (!validator.ok())
      return InvalidArgument(path.string() + ": " + validator.status().message());
    schemas.emplace(name, std::make_shared<const ResponseSchema>(
                              ResponseSchema{name, std::move(doc), std::move(*validator)}));
  }
  return schemas;
}

// A pipeline's steps must be plain task types: nesting would make "resume at the failed step"
// ambiguous, and cycles impossible to run.
Status CheckSteps(const std::map<std::string, TaskType, std::less<>>& types,
                  const std::map<std::string, std::string>& files) {
  for (const auto& [name, type] : types) {
    for (const std::string& step : type.steps) {
      auto it = types.find(step);
      if (it == types.end()) {
        return InvalidArgument(files.at(name) + ": steps: unknown task type '" + step + "'");
      }
      if (it->second.is_pipeline()) {
        return InvalidArgument(files.at(name) + ": steps: '" + step +
                               "' is itself a pipeline; steps must be plain task types");
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Result<TaskRegistry> TaskRegistry::Load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return NotFound("tasks dir '" + dir + "' does not exist or is not a directory");
  }
  TaskRegistry registry;
  ASSIGN_OR_RETURN(registry.schemas_, LoadSchemas(fs::path(dir) / "schemas"));
  std::map<std::string, std::string> files;  // task name -> its file, for messages
  for (const fs::path& path : FilesWithExtension(dir, ".toml")) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(path));
    ASSIGN_OR_RETURN(TaskType type, ParseTaskFile(path.string(), text, registry.schemas_));
    files[type.name] = path.string();
    std::string name = type.name;  // equals the unique file stem, so never a duplicate
    registry.types_.emplace(std::move(name), std::move(type));
  }
  RETURN_IF_ERROR(CheckSteps(registry.types_, files));
  return registry;
}

const TaskType* TaskRegistry::find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> TaskRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, type] : types_) out.push_back(name);
  return out;
}

const ResponseSchema* TaskRegistry::find_schema(std::string_view name) const {
  auto it = schemas_.find(name);
  return it == schemas_.end() ? nullptr : it->second.get();
}

}  // namespace sluice
