#include "cli/serve_config.h"

#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

namespace sluice {

Result<Config> LoadServeConfig(const ServeFlags& flags) {
  Result<Config> config = flags.config_path.empty()
                              ? Config::Parse("", std::filesystem::current_path())
                              : Config::Load(flags.config_path);
  if (!config.ok()) return config;
  if (!flags.listen.empty()) config->server.listen = flags.listen;
  if (!flags.data_dir.empty()) config->server.data_dir = flags.data_dir;
  if (!flags.store.empty()) config->server.store = flags.store;
  if (!flags.tasks_dir.empty()) config->tasks_dir = flags.tasks_dir;
  return config;
}

std::string WebhookSecretFromEnv(const WebhooksConfig& webhooks) {
  const char* secret = std::getenv(webhooks.secret_env.c_str());
  if (!secret || !*secret) {
    spdlog::warn(
        "webhooks: ${} is not set: deliveries go out without Sluice-Signature, so receivers "
        "cannot tell them from forgeries",
        webhooks.secret_env);
    return "";
  }
  return secret;
}

void WarnAboutUnconfiguredModels(const TaskRegistry& tasks, const ModelGateway& gateway) {
  for (const auto& name : tasks.names()) {
    const TaskType* task = tasks.find(name);
    if (!task->model.empty() && !gateway.has_alias(task->model)) {
      spdlog::warn(
          "task {}: model alias '{}' is not configured; its jobs run on the built-in 'local' model",
          name, task->model);
    }
  }
}

http::ServerOptions ApiServerOptions(const ServerConfig& server) {
  // Room for the multipart framing around an uploaded file.
  constexpr std::int64_t kMultipartFraming = 64 << 10;
  http::ServerOptions options;
  options.listen = server.listen;
  options.max_body = server.max_body;
  options.idle_timeout = server.idle_timeout;
  options.header_timeout = server.header_timeout;
  options.body_timeout = server.body_timeout;
  options.body_min_rate = server.body_min_rate;
  options.max_connections = server.max_connections;
  // Batch input files are larger than any other body.
  options.body_limits.push_back(
      {.method = "POST", .path = "/v1/files", .max_body = server.max_file + kMultipartFraming});
  return options;
}

}  // namespace sluice
