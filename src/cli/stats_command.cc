// `sluice stats`: GET /v1/stats as tables for people (-o json: the raw answer). The rendering is
// generic on purpose: every top-level list of objects ("queues", "models", whatever the server
// adds) becomes a table whose columns are the members of its rows, and a nested object in a
// row (a queue's "jobs" by status) spreads into columns of its own. So a server that reports
// more shows more here with no change to the client.
#include <cstdio>
#include <map>
#include <vector>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "cli/json_table.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

int RunStats(const StatsFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto stats = api.get_json("/v1/stats" + (f.window.empty() ? std::string() : "?window=" + f.window));
  if (!stats.ok()) return ReportError(stats.status());
  if (f.client.output == "json" || !stats->is_object()) {
    std::printf("%s\n", JsonText(*stats).c_str());
    return kExitOk;
  }
  const json::object& o = stats->as_object();
  std::printf("server %s\n", api.options().server.c_str());
  for (const auto& [key, value] : o) {
    if (key == "object" || value.is_array() || value.is_object()) continue;
    std::printf("%s: %s\n", std::string(key).c_str(), Cell(value).c_str());
  }
  std::printf("\n");
  for (const auto& [key, value] : o) {
    if (value.is_array()) PrintTable(std::string(key), value.as_array());
    if (value.is_object()) PrintTable(std::string(key), json::array{value});
  }
  return kExitOk;
}

}  // namespace sluice
