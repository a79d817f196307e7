#include "cli/main_command.h"

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "cli/mock_llm_command.h"
#include "cli/serve_command.h"

namespace sluice {

int Main(int argc, char** argv) {
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  CLI::App app{"Sluice: durable queue and gateway for AI work"};
  app.require_subcommand(1);

  ServeFlags serve;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the server (API, scheduler, workers)");
  serve_cmd->add_option("--config", serve.config_path, "TOML config file");
  serve_cmd->add_option("--listen", serve.listen, "host:port to listen on (overrides the config)");
  serve_cmd->add_option("--data-dir", serve.data_dir, "embedded store directory (overrides the config)");
  serve_cmd->add_option("--store", serve.store, "shared store URL (overrides the config)");
  serve_cmd->add_option("--tasks", serve.tasks_dir, "task types directory (overrides the config)");

  MockLlmFlags mock;
  CLI::App* mock_cmd = app.add_subcommand("mock-llm", "Run the OpenAI-compatible model simulator");
  AddMockLlmOptions(*mock_cmd, mock);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (*serve_cmd) return RunServe(serve);
  if (*mock_cmd) return RunMockLlm(mock);
  return 2;
}

}  // namespace sluice
