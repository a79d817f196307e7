// A task file (tasks/<name>.toml) through ParseTaskFile (tasks/task_file.cc), against one real
// compiled response schema; each version of a file that parses is then rendered into its chat
// request (tasks/prompt.cc) with a fixed job, as a worker would.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

#include "tasks/prompt.h"
#include "tasks/task_file.h"

namespace {

// A schema like tasks/schemas/ticket_class_v1.json, under the name task files may use.
constexpr char kSchema[] = R"({"type": "object", "required": ["label", "confidence"],
  "additionalProperties": false,
  "properties": {"label": {"type": "string", "enum": ["billing", "bug", "other"]},
                 "confidence": {"type": "number", "minimum": 0, "maximum": 1}}})";

const sluice::SchemaMap& Schemas() {
  static const sluice::SchemaMap* schemas = [] {
    auto doc = boost::json::parse(kSchema);
    auto validator = sluice::SchemaValidator::Compile(doc);
    if (!validator.ok()) std::abort();
    auto* map = new sluice::SchemaMap;
    map->emplace("ticket_class_v1",
                 std::make_shared<const sluice::ResponseSchema>(sluice::ResponseSchema{
                     "ticket_class_v1", std::move(doc), std::move(*validator)}));
    return map;
  }();
  return *schemas;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The stem must equal the file's `name`; the seeds and the dictionary use "fuzz".
  auto task = sluice::ParseTaskFile("tasks/fuzz.toml", text, Schemas());
  if (!task.ok()) return 0;
  sluice::RenderInput input;
  input.text = "The invoice was charged twice.";
  input.object_id = "ticket-1";
  input.metadata = {{"customer", boost::json::object{{"tier", "gold"}}}};
  for (const sluice::TaskVersion& version : task->versions) {
    (void)sluice::BuildChatRequest(version, input);
  }
  return 0;
}
