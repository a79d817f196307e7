// `sluice migrate`: brings a store's schema up to this build's version and exits, so an operator
// can migrate a shared database before (or apart from) rolling out nodes. Opening a store
// applies its pending migrations under the engines' lock (PostgreSQL: an advisory lock; SQLite:
// the data dir lock and an IMMEDIATE transaction), so running it while nodes start, or several
// times at once, is safe: one migrates and the others find nothing left to do.
#pragma once

#include <string>

namespace sluice {

struct MigrateFlags {
  std::string config_path;  // empty: defaults only
  std::string data_dir;     // overrides [server] data_dir
  std::string store;        // overrides [server] store
};

// Prints "schema version N" and returns 0 once the store is at this build's newest version;
// prints the error to stderr and returns 2 when the config or the store cannot be opened (a
// database written by a newer build included).
int RunMigrate(const MigrateFlags& flags);

}  // namespace sluice
