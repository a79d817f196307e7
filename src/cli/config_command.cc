// `sluice config check [--config PATH] [--tasks DIR]`: reads the config and the task types as
// `sluice serve` would (LoadServeConfig, TaskRegistry::Load, the schedules' checks) and says
// what they hold: "config OK: N queues, M models, K task types". Offline: it talks to no server,
// and creates and opens nothing (no data dir, no store), so it is safe beside a running server
// and before the first start.
//
// A problem is printed on stderr as serve logs it ("config: …" naming the file, "tasks: …"
// naming the task file), exit 2. What needs the store (API keys, the admin key's use) is not
// checked. Task types whose model alias is not configured are warned about, as serve does.
#include <cstdio>

#include "cli/client_commands.h"
#include "cli/serve_config.h"
#include "gateway/gateway.h"
#include "privacy/pii_masker.h"
#include "schedules/schedule_runner.h"
#include "tasks/registry.h"

namespace sluice {

int RunConfigCheck(const ConfigCheckFlags& f) {
  auto config = LoadServeConfig(ServeFlags{.config_path = f.config_path, .tasks_dir = f.tasks_dir});
  if (!config.ok()) {
    std::fprintf(stderr, "config: %s\n", config.status().ToString().c_str());
    return kExitUsage;
  }
  auto tasks = TaskRegistry::Load(config->tasks_dir);
  if (!tasks.ok()) {
    std::fprintf(stderr, "tasks: %s\n", tasks.status().ToString().c_str());
    return kExitUsage;
  }
  if (Status schedules = ScheduleRunner::Check(*config, *tasks); !schedules.ok()) {
    std::fprintf(stderr, "config: %s\n", schedules.message().c_str());
    return kExitUsage;
  }
  if (auto masker = privacy::PiiMasker::FromConfig(config->privacy); !masker.ok()) {
    std::fprintf(stderr, "config: %s\n", masker.status().message().c_str());
    return kExitUsage;
  }
  // serve_config.h WarnAboutUnconfiguredModels, without building a gateway.
  for (const std::string& name : tasks->names()) {
    const TaskType* task = tasks->find(name);
    if (!task->model.empty() && task->model != kLocalAlias && !config->find_model(task->model)) {
      std::fprintf(
          stderr,
          "warning: task %s: model alias '%s' is not configured; its jobs run on the built-in "
          "'local' model\n",
          name.c_str(), task->model.c_str());
    }
  }
  auto count = [](std::size_t n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::printf("config OK: %s, %s, %s\n", count(config->queues.size(), "queue", "queues").c_str(),
              count(config->models.size(), "model", "models").c_str(),
              count(tasks->names().size(), "task type", "task types").c_str());
  return kExitOk;
}

}  // namespace sluice
