// The server's TOML config (config/config.cc): Config::Parse over arbitrary text. Every
// outcome is allowed but a crash; a config that parses must name a "default" and a "batch"
// queue, which the API and the batch runner rely on, and the JSON it holds (a model's params,
// a schedule's metadata, converted from TOML tables) must be JSON objects.
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto config = sluice::Config::Parse(text, "/srv/sluice");
  if (!config.ok()) return 0;
  if (!config->find_queue("default") || !config->find_queue("batch")) __builtin_trap();
  auto is_object = [](const std::string& text) {
    boost::system::error_code ec;
    const boost::json::value v = boost::json::parse(text, ec);
    return !ec && v.is_object();
  };
  for (const sluice::ModelConfig& model : config->models) {
    if (!is_object(model.params_json)) __builtin_trap();
  }
  for (const sluice::ScheduleConfig& schedule : config->schedules) {
    if (!schedule.metadata_json.empty() && !is_object(schedule.metadata_json)) __builtin_trap();
  }
  return 0;
}
