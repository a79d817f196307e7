// What `sluice serve` runs with: the config file (or the defaults) with the command line's
// flags over it, what the environment adds, and the settings derived from them for parts
// that do not read Config themselves. Problems that do not stop a start are logged here.
#pragma once

#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "cli/serve_command.h"
#include "config/config.h"
#include "core/status.h"
#include "gateway/gateway.h"
#include "http/server.h"
#include "store/store.h"
#include "tasks/registry.h"

namespace sluice {

// The file at flags.config_path (none: the defaults, relative to the working directory), then
// each non-empty flag over the setting it names.
Result<Config> LoadServeConfig(const ServeFlags& flags);

// The webhook signing key from the environment variable that [webhooks] secret_env names.
// Empty when unset, with a warning: deliveries then go out unsigned.
std::string WebhookSecretFromEnv(const WebhooksConfig& webhooks);

// Warns about each task type whose model alias is not configured: its jobs run on `local`.
void WarnAboutUnconfiguredModels(const TaskRegistry& tasks, const ModelGateway& gateway);

// The authenticator of `sluice serve`: the admin key from the environment variable that
// [auth] admin_key_env names, and whether any API key exists. An error (with the message to
// print before exiting 2) when the store cannot say, when the admin key is too weak, or when
// nothing would authenticate and `listen` is not a loopback address.
Result<std::unique_ptr<auth::Authenticator>> NewAuthenticator(const Config& config, Store& store,
                                                              const Clock& clock);

// The API server's listen address and body limits.
http::ServerOptions ApiServerOptions(const ServerConfig& server);

}  // namespace sluice
