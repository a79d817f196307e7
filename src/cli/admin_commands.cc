#include "cli/admin_commands.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>

#include "api/admin_ops.h"
#include "cli/client_common.h"
#include "cli/json_table.h"
#include "client/api_client.h"
#include "config/config.h"
#include "store/store.h"
#include "json/json_text.h"

namespace sluice {

namespace json = boost::json;

namespace {

// One admin operation, as an HTTP request (online) and as a store call (offline).
struct AdminOp {
  std::string method;
  std::string path;
  json::value body;  // null: no body
  std::function<Result<AdminAnswer>(Store&, Millis now)> offline;
};

bool Offline(const AdminFlags& f) {
  return !f.data_dir.empty() || !f.store.empty() || !f.config_path.empty();
}

Result<json::value> RunOffline(const AdminFlags& f, const AdminOp& op) {
  Result<Config> config = f.config_path.empty() ? Config::Parse("", std::filesystem::current_path())
                                                : Config::Load(f.config_path);
  if (!config.ok()) return config.status();
  if (!f.data_dir.empty()) config->server.data_dir = f.data_dir;
  if (!f.store.empty()) config->server.store = f.store;
  if (config->server.store.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(config->server.data_dir, ec);
  }
  auto store = Store::Open({config->server.data_dir, config->server.store, config->server.durable});
  if (!store.ok()) return store.status();
  ASSIGN_OR_RETURN(AdminAnswer answer, op.offline(**store, SystemClock::Instance().now()));
  return answer.body;
}

Result<json::value> RunOnline(const AdminFlags& f, const AdminOp& op) {
  client::ClientOptions options = client::OptionsFromEnvironment(f.server);
  if (const char* admin = std::getenv("SLUICE_ADMIN_KEY"); admin && *admin) options.api_key = admin;
  client::ApiClient api(options);
  const std::string body = op.body.is_null() ? std::string() : JsonText(op.body);
  ASSIGN_OR_RETURN(client::ApiResponse r, api.call(op.method, op.path, body));
  return r.body;
}

void PrintText(const std::string& title, const json::value& body) {
  if (const json::value* data = body.is_object() ? body.as_object().if_contains("data") : nullptr;
      data && data->is_array()) {
    return PrintTable(title, data->as_array());
  }
  if (!body.is_object()) return (void)std::printf("%s\n", JsonText(body).c_str());
  for (const auto& [key, value] : body.as_object()) {
    if (value.is_object()) {
      for (const auto& [inner, v] : value.as_object()) {
        std::printf("%s.%s: %s\n", std::string(key).c_str(), std::string(inner).c_str(), Cell(v).c_str());
      }
    } else {
      std::printf("%s: %s\n", std::string(key).c_str(), Cell(value).c_str());
    }
  }
}

int Run(const AdminFlags& f, const std::string& title, const AdminOp& op) {
  Result<json::value> body = Offline(f) ? RunOffline(f, op) : RunOnline(f, op);
  if (!body.ok()) return ReportError(body.status());
  if (f.output == "json") {
    std::printf("%s\n", JsonText(*body).c_str());
  } else {
    PrintText(title, *body);
  }
  return kExitOk;
}

AdminOp TenantsCreate(const AdminFlags& f) {
  json::object body{{"id", f.id}};
  if (f.weight > 0) body["weight"] = f.weight;
  if (f.rpm >= 0) body["rpm"] = f.rpm;
  if (f.max_queued >= 0) body["max_queued"] = f.max_queued;
  if (f.budget >= 0) body["monthly_budget_usd"] = f.budget;
  if (!f.mask_pii.empty()) body["mask_pii"] = f.mask_pii == "on";
  return {"POST", "/v1/admin/tenants", body, [body](Store& s, Millis now) {
            return PutTenant(s, body, now);
          }};
}

AdminOp KeysCreate(const AdminFlags& f) {
  json::object body{{"tenant", f.tenant}};
  if (!f.name.empty()) body["name"] = f.name;
  return {"POST", "/v1/admin/keys", body, [body](Store& s, Millis now) {
            return CreateKey(s, body, now);
          }};
}

void AddWhere(CLI::App& cmd, AdminFlags& f) {
  cmd.add_option("--server", f.server, "a running server (default $SLUICE_SERVER or http://127.0.0.1:8080)");
  cmd.add_option("--data-dir", f.data_dir, "work offline on this embedded store (server stopped)");
  cmd.add_option("--store", f.store, "work offline on this shared store (postgres://...)");
  cmd.add_option("--config", f.config_path, "work offline on the store of this config file");
  cmd.add_option("-o,--output", f.output, "output format: text or json")->check(CLI::IsMember({"text", "json"}));
}

}  // namespace

void AddAdminCommands(CLI::App& app, AdminCommands& c) {
  AdminFlags& f = c.flags;
  CLI::App* tenants = app.add_subcommand("tenants", "Manage tenants (admin)");
  tenants->require_subcommand(1);
  c.tenants_create = tenants->add_subcommand("create", "Create a tenant, or change the limits given");
  c.tenants_create->add_option("id", f.id, "tenant id (a-z, 0-9, _ and -)")->required();
  c.tenants_create->add_option("--weight", f.weight, "fair-share weight within a queue (>= 1)");
  c.tenants_create->add_option("--rpm", f.rpm, "API requests a minute (0: no limit)");
  c.tenants_create->add_option("--max-queued", f.max_queued, "live jobs (0: no limit)");
  c.tenants_create->add_option("--budget", f.budget, "monthly budget in USD (0: no limit)");
  c.tenants_create->add_option("--mask-pii", f.mask_pii, "mask PII in every job and sync call: on or off")
      ->check(CLI::IsMember({"on", "off"}));
  AddWhere(*c.tenants_create, f);
  c.tenants_list = tenants->add_subcommand("list", "List tenants");
  AddWhere(*c.tenants_list, f);

  CLI::App* keys = app.add_subcommand("keys", "Manage API keys (admin)");
  keys->require_subcommand(1);
  c.keys_create = keys->add_subcommand("create", "Create an API key; its secret is shown once");
  c.keys_create->add_option("--tenant", f.tenant, "the tenant the key belongs to")->required();
  c.keys_create->add_option("--name", f.name, "a name to recognize the key by");
  AddWhere(*c.keys_create, f);
  c.keys_list = keys->add_subcommand("list", "List API keys (never their secrets)");
  c.keys_list->add_option("--tenant", f.tenant, "only this tenant's keys");
  AddWhere(*c.keys_list, f);
  c.keys_revoke = keys->add_subcommand("revoke", "Revoke an API key (every node within seconds)");
  c.keys_revoke->add_option("id", f.id, "the key id (key_...)")->required();
  AddWhere(*c.keys_revoke, f);
}

int RunAdminCommand(const AdminCommands& c) {
  const AdminFlags& f = c.flags;
  if (c.tenants_create && *c.tenants_create) return Run(f, "tenant", TenantsCreate(f));
  if (c.tenants_list && *c.tenants_list) {
    return Run(f, "tenants", {"GET", "/v1/admin/tenants", nullptr,
                              [](Store& s, Millis) { return ListTenants(s); }});
  }
  if (c.keys_create && *c.keys_create) return Run(f, "key", KeysCreate(f));
  if (c.keys_list && *c.keys_list) {
    const std::string query = f.tenant.empty() ? "" : "?tenant=" + f.tenant;
    return Run(f, "keys", {"GET", "/v1/admin/keys" + query, nullptr,
                           [tenant = f.tenant](Store& s, Millis) { return ListKeys(s, tenant); }});
  }
  if (c.keys_revoke && *c.keys_revoke) {
    return Run(f, "key", {"DELETE", "/v1/admin/keys/" + f.id, nullptr,
                          [id = f.id](Store& s, Millis now) { return RevokeKey(s, id, now); }});
  }
  return -1;
}

}  // namespace sluice
