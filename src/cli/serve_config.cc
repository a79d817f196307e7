#include "cli/serve_config.h"

#include <cstdlib>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "api/request_gate.h"

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
  if (!flags.log_level.empty()) config->log.level = flags.log_level;
  if (!flags.log_format.empty()) config->log.format = flags.log_format;
  RETURN_IF_ERROR(CheckLogConfig(config->log));
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

Result<std::unique_ptr<auth::Authenticator>> NewAuthenticator(const Config& config, Store& store,
                                                              const Clock& clock) {
  // Shorter than this an admin key can be guessed; the keys Sluice makes have 256 bits.
  constexpr std::size_t kMinAdminKey = 16;
  const char* admin = std::getenv(config.auth.admin_key_env.c_str());
  std::string admin_key = admin ? admin : "";
  if (!admin_key.empty() && admin_key.size() < kMinAdminKey) {
    return InvalidArgument("auth: $" + config.auth.admin_key_env + " holds " +
                           std::to_string(admin_key.size()) + " characters; an admin key needs at "
                           "least 16 (e.g. openssl rand -hex 32)");
  }
  auto authenticator = std::make_unique<auth::Authenticator>(
      store, clock,
      auth::Authenticator::Options{.admin_key = std::move(admin_key),
                                   .cache_ttl = config.auth.key_cache});
  if (Status known = authenticator->refresh_required(); !known.ok()) {
    return InvalidArgument("store: cannot read the API keys: " + known.ToString());
  }
  if (!authenticator->required() && !IsLoopbackHost(config.server.listen)) {
    return InvalidArgument(
        "refusing to listen on " + config.server.listen +
        " without authentication: anyone who reaches it could read every result and spend the "
        "provider budget. Set an admin key in $" + config.auth.admin_key_env +
        " (then create tenants and keys: sluice tenants create / sluice keys create), or listen "
        "on a loopback address such as 127.0.0.1:8080");
  }
  if (authenticator->required()) {
    spdlog::info("auth: every /v1 request needs an API key{}",
                 admin ? " (admin key from $" + config.auth.admin_key_env + ")" : "");
  }
  return authenticator;
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
  // Batch input files are larger than any other body, so fewer of them may be held at once.
  options.body_limits.push_back({.method = "POST",
                                 .path = "/v1/files",
                                 .max_body = server.max_file + kMultipartFraming,
                                 .max_in_flight = server.max_uploads});
  return options;
}

}  // namespace sluice
