// `sluice audit verify` and `sluice audit export` (API.md "Audit log"): walk the hash chain of a
// store, or of a file an export wrote, and write a span of it as JSON lines. Both read the store
// directly (the embedded one only while no server holds its data dir); neither writes to it.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace sluice {

struct AuditFlags {
  bool verify = false;  // which subcommand ran
  bool export_ = false;
  std::string config_path;  // empty: defaults only
  std::string data_dir;     // overrides [server] data_dir
  std::string store;        // overrides [server] store
  std::string file;         // verify: an export's JSONL instead of a store
  std::string since;        // export: RFC 3339 or YYYY-MM-DD (UTC); empty: from the start
  std::string until;        // export: the same; empty: to the end
  std::string output;       // export: a file; empty: stdout
};

void AddAuditCommands(CLI::App& app, AuditFlags& flags);
// -1 when no audit command was given; else the exit code: 0 (a whole chain, an export
// written), 1 (verify found a broken record, named on stderr), 2 (bad flags, no store).
int RunAuditCommand(const AuditFlags& flags);

}  // namespace sluice
