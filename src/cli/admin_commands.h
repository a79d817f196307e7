// `sluice tenants create|list` and `sluice keys create|list|revoke` (API.md "Tenants, API keys
// and quotas"). Two ways to reach the data:
// - online (default): the running server's /v1/admin routes at --server ($SLUICE_SERVER),
//   with the admin key from $SLUICE_ADMIN_KEY (else $SLUICE_API_KEY);
// - offline: --data-dir, --store or --config opens the store itself, for bootstrapping before
//   any key exists (whoever can open the store needs no key). The embedded store is locked by a
//   running server: stop it first, or go online.
// Both run the same operations (api/admin_ops.h), so they validate and answer alike.
#pragma once

#include <cstdint>
#include <string>

namespace CLI {
class App;
}

namespace sluice {

struct AdminFlags {
  std::string server;
  std::string config_path;
  std::string data_dir;
  std::string store;
  std::string output = "text";
  std::string id;           // tenants create: the tenant; keys revoke: the key id
  int weight = 0;           // 0: not given
  std::int64_t rpm = -1;    // -1: not given
  std::int64_t max_queued = -1;
  double budget = -1;
  std::string mask_pii;     // "on" | "off"; empty: unchanged
  std::string tenant;       // keys create / list
  std::string name;         // keys create
};

struct AdminCommands {
  AdminFlags flags;
  CLI::App* tenants_create = nullptr;
  CLI::App* tenants_list = nullptr;
  CLI::App* keys_create = nullptr;
  CLI::App* keys_list = nullptr;
  CLI::App* keys_revoke = nullptr;
};

void AddAdminCommands(CLI::App& app, AdminCommands& commands);
// The exit code of the admin command that was parsed, or -1 when none was.
int RunAdminCommand(const AdminCommands& commands);

}  // namespace sluice
