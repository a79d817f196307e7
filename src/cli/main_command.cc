#include "cli/main_command.h"

#include <sys/resource.h>

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/admin_commands.h"
#include "cli/audit_command.h"
#include "cli/client_commands.h"
#include "cli/migrate_command.h"
#include "cli/mock_llm_command.h"
#include "cli/serve_command.h"

namespace sluice {

namespace {

// Every call in flight holds a socket (two when the model is mock-llm on the same box), so the
// usual soft limit of 1024 open files would cap a node far below worker.concurrency.
void RaiseOpenFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= limit.rlim_max) return;
  limit.rlim_cur = limit.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    spdlog::warn("cannot raise the open-files limit to {}", limit.rlim_max);
  }
}

}  // namespace

int Main(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  CLI::App app{"Sluice: durable queue and gateway for AI work"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  std::string help_topic;
  CLI::App* help_cmd = app.add_subcommand("help", "Show the commands, or one command's options");
  help_cmd->add_option("command", help_topic, "a command, e.g. serve");

  ServeFlags serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the server (API, scheduler, workers)");
  serve_cmd->add_option("--config", serve.config_path, "TOML config file");
  serve_cmd->add_option("--listen", serve.listen, "host:port to listen on (overrides the config)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "embedded store directory (overrides the config)");
  serve_cmd->add_option("--store", serve.store, "shared store URL (overrides the config)");
  serve_cmd->add_option("--tasks", serve.tasks_dir, "task types directory (overrides the config)");
  serve_cmd
      ->add_option("--log-level", serve.log_level,
                   "debug, info (one line per request), warn, error or off")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));
  serve_cmd->add_option("--log-format", serve.log_format, "text or json (one JSON object a line)")
      ->check(CLI::IsMember({"text", "json"}));

  MockLlmFlags mock;
  CLI::App* mock_cmd = app.add_subcommand("mock-llm", "Run the OpenAI-compatible model simulator");
  AddMockLlmOptions(*mock_cmd, mock);

  MigrateFlags migrate;
  CLI::App* migrate_cmd = app.add_subcommand("migrate", "Apply pending store migrations and print the schema version");
  migrate_cmd->add_option("--config", migrate.config_path, "TOML config file");
  migrate_cmd->add_option("--data-dir", migrate.data_dir, "embedded store directory (overrides the config)");
  migrate_cmd->add_option("--store", migrate.store, "shared store URL (overrides the config)");

  ClientCommands client;
  AddClientCommands(app, client);
  AdminCommands admin;
  AddAdminCommands(app, admin);
  AuditFlags audit;
  AddAuditCommands(app, audit);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help asked for: 0. A usage error: 2, the code scripts expect (client_common.h).
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (*help_cmd) {
    // The formatter, not app.help(): that would describe the help command itself.
    const std::string overview = app.get_formatter()->make_help(&app, "sluice", CLI::AppFormatMode::Normal);
    if (help_topic.empty()) {
      std::cout << overview;
      return 0;
    }
    for (const CLI::App* sub : app.get_subcommands({})) {
      if (sub->get_name() == help_topic) {
        std::cout << sub->help();
        return 0;
      }
    }
    std::cerr << "unknown command '" << help_topic << "'\n\n" << overview;
    return 2;
  }
  if (int code = RunClientCommand(client); code >= 0) return code;
  if (int code = RunAdminCommand(admin); code >= 0) return code;
  if (int code = RunAuditCommand(audit); code >= 0) return code;
  RaiseOpenFileLimit();
  if (*serve_cmd) return RunServe(serve);
  if (*mock_cmd) return RunMockLlm(mock);
  if (*migrate_cmd) return RunMigrate(migrate);
  return 2;
}

}  // namespace sluice
