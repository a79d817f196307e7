#include "cli/migrate_command.h"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "config/config.h"
#include "store/postgres/migrations.h"
#include "store/sqlite/migrations.h"
#include "store/store.h"

namespace sluice {

namespace {

Result<Config> LoadConfig(const MigrateFlags& flags) {
  Result<Config> config = flags.config_path.empty() ? Config::Parse("", std::filesystem::current_path())
                                                    : Config::Load(flags.config_path);
  if (!config.ok()) return config;
  if (!flags.data_dir.empty()) config->server.data_dir = flags.data_dir;
  if (!flags.store.empty()) config->server.store = flags.store;
  return config;
}

// The version a store is at once Store::Open succeeded: Open applies every migration this
// build knows and refuses a database that holds a newer one, so it is the engine's newest.
int NewestVersion(const StoreOptions& options) {
  if (options.url.empty()) return sqlite::Migrations().back().version;
  return pg::Migrations().back().version;
}

int Fail(std::string_view what, const Status& status) {
  std::fprintf(stderr, "sluice migrate: %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               status.ToString().c_str());
  return 2;
}

}  // namespace

int RunMigrate(const MigrateFlags& flags) {
  auto config = LoadConfig(flags);
  if (!config.ok()) return Fail("config", config.status());
  const StoreOptions options{config->server.data_dir, config->server.store, config->server.durable};
  if (options.url.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(options.data_dir, ec);
    if (ec) return Fail("store", Unavailable("cannot create data dir " + options.data_dir + ": " + ec.message()));
  }
  auto store = Store::Open(options);
  if (!store.ok()) return Fail("store", store.status());
  std::fputs(fmt::format("schema version {}\n", NewestVersion(options)).c_str(), stdout);
  return 0;
}

}  // namespace sluice
