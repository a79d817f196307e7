// `sluice serve`: the whole server in one process — API, scheduler, workers — until SIGTERM or
// SIGINT, then a graceful drain (API.md "Command line").
#pragma once

#include <string>

namespace sluice {

struct ServeFlags {
  std::string config_path;  // empty: defaults only
  std::string listen;       // overrides [server] listen
  std::string data_dir;     // overrides [server] data_dir
  std::string store;        // overrides [server] store
  std::string tasks_dir;    // overrides [tasks] dir
  std::string log_level;    // overrides [log] level
  std::string log_format;   // overrides [log] format
};

int RunServe(const ServeFlags& flags);

}  // namespace sluice
