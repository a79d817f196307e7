#include "config/config.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace sluice {

namespace {

namespace fs = std::filesystem;

// Reads typed keys out of one TOML table, remembering the first error and every key it was
// asked about, so that unknown keys (typos) can be reported.
class TableReader {
 public:
  TableReader(const toml::table& table, std::string path) : table_(table), path_(std::move(path)) {}

  void str(const char* key, std::string& out) {
    if (auto* node = get(key)) {
      if (auto v = node->value<std::string>()) out = *v;
      else fail(key, "must be a string");
    }
  }
  void integer(const char* key, int& out, long long min = 0, long long max = 1'000'000'000) {
    if (auto* node = get(key)) {
      auto v = node->value<long long>();
      if (!v) return fail(key, "must be an integer");
      if (*v < min || *v > max) return fail(key, "is out of range");
      out = static_cast<int>(*v);
    }
  }
  void number(const char* key, double& out) {
    if (auto* node = get(key)) {
      if (auto v = node->value<double>(); v && *v >= 0) out = *v;
      else fail(key, "must be a non-negative number");
    }
  }
  void optional_number(const char* key, std::optional<double>& out) {
    if (get(key)) {
      double value = 0;
      number(key, value);
      out = value;
    }
  }
  void boolean(const char* key, bool& out) {
    if (auto* node = get(key)) {
      if (auto v = node->value<bool>()) out = *v;
      else fail(key, "must be true or false");
    }
  }
  void duration(const char* key, Millis& out) {
    std::string text;
    str(key, text);
    if (text.empty()) return;
    auto d = ParseDuration(text);
    if (!d.ok()) return fail(key, d.status().message());
    out = *d;
  }
  // A duration, or "0" for none. Unlike duration(), an empty string is an error too: a window
  // that is not what it says would delete data, or keep it forever, unasked.
  void window(const char* key, Millis& out) {
    const toml::node* node = get(key);
    if (!node) return;
    auto text = node->value<std::string>();
    if (!text) return fail(key, "must be a duration like \"90d\", or \"0\" for none");
    if (*text == "0") {
      out = 0;
      return;
    }
    auto d = ParseDuration(*text);
    if (!d.ok()) return fail(key, d.status().message());
    out = *d;
  }
  void bytes(const char* key, std::int64_t& out) {
    std::string text;
    if (auto* node = get(key)) {
      if (auto v = node->value<long long>()) {
        out = *v;
        return;
      }
    }
    str(key, text);
    if (text.empty()) return;
    auto n = ParseByteSize(text);
    if (!n.ok()) return fail(key, n.status().message());
    out = *n;
  }
  void strings(const char* key, std::vector<std::string>& out) {
    if (auto* node = get(key)) {
      auto* arr = node->as_array();
      if (!arr) return fail(key, "must be an array of strings");
      out.clear();
      for (auto& item : *arr) {
        auto v = item.value<std::string>();
        if (!v) return fail(key, "must be an array of strings");
        out.push_back(*v);
      }
    }
  }
  void string_table(const char* key, std::vector<std::pair<std::string, std::string>>& out) {
    if (auto* node = get(key)) {
      auto* t = node->as_table();
      if (!t) return fail(key, "must be a table of strings");
      for (auto& [k, v] : *t) {
        auto s = v.value<std::string>();
        if (!s) return fail(key, "must be a table of strings");
        out.emplace_back(std::string(k.str()), *s);
      }
    }
  }
  // The table as JSON text (for params defaults): scalars only, enough for model params.
  void json_object(const char* key, std::string& out) {
    if (auto* node = get(key)) {
      auto* t = node->as_table();
      if (!t) return fail(key, "must be a table");
      std::ostringstream os;
      os << toml::json_formatter{*t};
      out = os.str();
    }
  }

  // A key read by other code (a nested array of tables), so finish() does not call it unknown.
  void read_elsewhere(const char* key) { seen_.insert(key); }

  Status finish() {
    if (!error_.ok()) return error_;
    for (auto& [k, v] : table_) {
      if (!seen_.count(std::string(k.str()))) {
        return InvalidArgument("unknown key " + path_ + "." + std::string(k.str()),
                               path_ + "." + std::string(k.str()));
      }
    }
    return Status::Ok();
  }

  // Marks a key read by hand (a value of a shape the readers above do not know).
  void seen(const char* key) { seen_.insert(key); }

 private:
  const toml::node* get(const char* key) {
    seen_.insert(key);
    return table_.get(key);
  }
  void fail(const char* key, const std::string& why) {
    if (error_.ok()) error_ = InvalidArgument(path_ + "." + key + " " + why, path_ + "." + key);
  }

  const toml::table& table_;
  std::string path_;
  std::set<std::string> seen_;
  Status error_;
};

std::string Resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute() || base_dir.empty()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

Status ReadServer(const toml::table& t, ServerConfig& s) {
  TableReader r(t, "server");
  r.str("listen", s.listen);
  r.str("data_dir", s.data_dir);
  r.str("store", s.store);
  r.bytes("max_body", s.max_body);
  r.bytes("max_file", s.max_file);
  r.integer("max_uploads", s.max_uploads, 1, 1024);
  r.integer("sync_max_input_tokens", s.sync_max_input_tokens, 1);
  r.integer("io_threads", s.io_threads, 1, 64);
  r.integer("bulk_limit", s.bulk_limit, 1, 1'000'000);
  r.duration("max_wait", s.max_wait);
  r.boolean("durable", s.durable);
  r.duration("idle_timeout", s.idle_timeout);
  r.duration("header_timeout", s.header_timeout);
  r.duration("body_timeout", s.body_timeout);
  r.bytes("body_min_rate", s.body_min_rate);
  r.integer("max_connections", s.max_connections, 1, 1'000'000);
  r.boolean("metrics_public", s.metrics_public);
  RETURN_IF_ERROR(r.finish());
  if (s.body_min_rate < 0) {
    return InvalidArgument("server.body_min_rate must not be negative", "server.body_min_rate");
  }
  // No "unlimited": a limit is what bounds the memory a declared Content-Length reserves.
  if (s.max_body <= 0)
    return InvalidArgument("server.max_body must be positive", "server.max_body");
  if (s.max_file <= 0)
    return InvalidArgument("server.max_file must be positive", "server.max_file");
  return Status::Ok();
}

Status ReadProvider(const toml::table& t, size_t i, ProviderConfig& p) {
  TableReader r(t, "provider[" + std::to_string(i) + "]");
  r.str("name", p.name);
  r.str("base_url", p.base_url);
  r.str("api_key_env", p.api_key_env);
  r.duration("timeout", p.timeout);
  r.integer("max_concurrency", p.max_concurrency, 1, 1'000'000);
  r.integer("rpm", p.rpm);
  r.integer("tpm", p.tpm);
  r.string_table("headers", p.headers);
  r.bytes("max_response", p.max_response);
  r.integer("circuit_failures", p.circuit_failures, 0, 1'000'000);
  r.number("circuit_failure_ratio", p.circuit_failure_ratio);
  r.integer("circuit_window", p.circuit_window, 0, 1'000'000);
  r.duration("circuit_cool_down", p.circuit_cool_down);
  RETURN_IF_ERROR(r.finish());
  if (p.circuit_failure_ratio <= 0 || p.circuit_failure_ratio > 1) {
    return InvalidArgument("provider " + p.name + ": circuit_failure_ratio must be in (0, 1]",
                           "provider.circuit_failure_ratio");
  }
  if (p.max_response <= 0) {
    return InvalidArgument("provider " + p.name + ": max_response must be positive", "provider.max_response");
  }
  if (p.name.empty()) return InvalidArgument("provider needs a name", "provider.name");
  if (p.name == "local") return InvalidArgument("\"local\" is the built-in provider", "provider.name");
  if (p.base_url.rfind("http://", 0) != 0 && p.base_url.rfind("https://", 0) != 0) {
    return InvalidArgument("provider " + p.name + ": base_url must start with http:// or https://",
                           "provider.base_url");
  }
  while (!p.base_url.empty() && p.base_url.back() == '/') p.base_url.pop_back();
  return Status::Ok();
}

Status ReadModel(const toml::table& t, size_t i, ModelConfig& m) {
  TableReader r(t, "model[" + std::to_string(i) + "]");
  r.str("alias", m.alias);
  r.str("provider", m.provider);
  r.str("id", m.id);
  r.number("input_usd_per_mtok", m.input_usd_per_mtok);
  r.number("output_usd_per_mtok", m.output_usd_per_mtok);
  r.optional_number("cached_input_usd_per_mtok", m.cached_input_usd_per_mtok);
  r.optional_number("reasoning_usd_per_mtok", m.reasoning_usd_per_mtok);
  r.strings("fallback", m.fallback);
  r.json_object("params", m.params_json);
  RETURN_IF_ERROR(r.finish());
  if (m.alias.empty()) return InvalidArgument("model needs an alias", "model.alias");
  if (m.provider.empty()) return InvalidArgument("model " + m.alias + " needs a provider", "model.provider");
  if (m.id.empty()) m.id = m.alias;
  return Status::Ok();
}

bool IsCurrencyCode(std::string_view code) {
  return code.size() == 3 && std::all_of(code.begin(), code.end(),
                                         [](char ch) { return ch >= 'A' && ch <= 'Z'; });
}

// [billing] rates = {KZT = 520.0, EUR = 0.92}: units per USD, each positive and finite (a rate
// of 0 would report every cost as free).
Status ReadBilling(const toml::table& t, BillingConfig& b) {
  TableReader r(t, "billing");
  const toml::table* rates = nullptr;
  if (const toml::node* node = t.get("rates")) {
    rates = node->as_table();
    if (!rates) {
      return InvalidArgument("billing.rates must be a table of currency = units per USD",
                             "billing.rates");
    }
  }
  r.seen("rates");
  RETURN_IF_ERROR(r.finish());
  if (!rates) return Status::Ok();
  for (const auto& [key, value] : *rates) {
    const std::string code(key.str());
    const std::string field = "billing.rates." + code;
    if (!IsCurrencyCode(code)) {
      return InvalidArgument(field + ": a currency code is 3 uppercase letters, like KZT", field);
    }
    std::optional<double> rate = value.value<double>();
    if (!rate || !std::isfinite(*rate) || *rate <= 0) {
      return InvalidArgument(field + " must be a positive number of " + code + " per USD", field);
    }
    if (code == "USD" && *rate != 1) {
      return InvalidArgument(field + " must be 1 (or left out)", field);
    }
    b.rates[code] = *rate;
  }
  return Status::Ok();
}

Status ReadQueue(const toml::table& t, size_t i, QueueConfig& q) {
  TableReader r(t, "queue[" + std::to_string(i) + "]");
  r.str("name", q.name);
  r.integer("max_concurrency", q.max_concurrency, 1, 1'000'000);
  r.integer("reserved", q.reserved, 0, 1'000'000);
  r.str("model", q.model);
  RETURN_IF_ERROR(r.finish());
  if (q.name.empty()) return InvalidArgument("queue needs a name", "queue.name");
  if (q.reserved > q.max_concurrency) {
    return InvalidArgument("queue " + q.name + ": reserved exceeds max_concurrency", "queue.reserved");
  }
  return Status::Ok();
}

Status ReadWorker(const toml::table& t, WorkerConfig& w) {
  TableReader r(t, "worker");
  r.integer("concurrency", w.concurrency, 1, 1'000'000);
  r.duration("lease", w.lease);
  r.duration("heartbeat", w.heartbeat);
  r.duration("poll", w.poll);
  r.duration("retry_base", w.retry_base);
  r.duration("retry_max", w.retry_max);
  r.duration("grace", w.grace);
  RETURN_IF_ERROR(r.finish());
  if (w.heartbeat <= 0 || w.heartbeat >= w.lease) {
    return InvalidArgument("worker.heartbeat must be shorter than worker.lease", "worker.heartbeat");
  }
  return Status::Ok();
}

// Structure only: the cron expression and the task type are checked when the server starts
// (schedules/schedule_runner.h), where the cron parser and the task registry are.
Status ReadPrivacyRule(const toml::table& t, size_t i, PrivacyRuleConfig& rule) {
  TableReader r(t, "privacy.rule[" + std::to_string(i) + "]");
  r.str("name", rule.name);
  r.str("pattern", rule.pattern);
  r.str("check", rule.check);
  return r.finish();
}

Status ReadSchedule(const toml::table& t, size_t i, ScheduleConfig& s) {
  TableReader r(t, "schedule[" + std::to_string(i) + "]");
  r.str("name", s.name);
  r.str("cron", s.cron);
  r.str("type", s.type);
  r.str("inbox", s.inbox);
  r.str("drop_file", s.drop_file);
  r.str("queue", s.queue);
  r.integer("priority", s.priority, 0, 9);
  r.json_object("metadata", s.metadata_json);
  RETURN_IF_ERROR(r.finish());
  const std::string what = "schedule " + (s.name.empty() ? "[" + std::to_string(i) + "]" : s.name);
  if (s.name.empty()) return InvalidArgument(what + " needs a name", "schedule.name");
  if (s.cron.empty()) return InvalidArgument(what + " needs a cron expression", "schedule.cron");
  if (s.type.empty()) return InvalidArgument(what + " needs a task type", "schedule.type");
  if (s.inbox.empty() == s.drop_file.empty()) {
    return InvalidArgument(what + " needs exactly one of inbox (a folder) or drop_file (a JSONL file)",
                           s.inbox.empty() ? "schedule.inbox" : "schedule.drop_file");
  }
  return Status::Ok();
}

template <typename T, typename ReadFn>
Status ReadArray(const toml::table& root, const char* key, std::vector<T>& out, ReadFn read) {
  auto* node = root.get(key);
  if (!node) return Status::Ok();
  auto* arr = node->as_array();
  if (!arr) return InvalidArgument(std::string(key) + " must be an array of tables ([[" + key + "]])", key);
  for (size_t i = 0; i < arr->size(); ++i) {
    auto* t = (*arr)[i].as_table();
    if (!t) return InvalidArgument(std::string(key) + " entries must be tables", key);
    T item;
    RETURN_IF_ERROR(read(*t, i, item));
    out.push_back(std::move(item));
  }
  return Status::Ok();
}

Status Validate(Config& c) {
  std::set<std::string> names;
  for (auto& p : c.providers) {
    if (!names.insert(p.name).second) return InvalidArgument("duplicate provider " + p.name, "provider.name");
  }
  names.clear();
  for (auto& m : c.models) {
    if (!names.insert(m.alias).second) return InvalidArgument("duplicate model alias " + m.alias, "model.alias");
    if (m.provider != "local" && !c.find_provider(m.provider)) {
      return InvalidArgument("model " + m.alias + ": unknown provider " + m.provider, "model.provider");
    }
  }
  for (auto& m : c.models) {
    for (auto& f : m.fallback) {
      if (f != "local" && !c.find_model(f)) {  // the built-in `local` needs no [[model]]
        return InvalidArgument("model " + m.alias + ": unknown fallback alias " + f, "model.fallback");
      }
    }
  }
  names.clear();
  for (auto& q : c.queues) {
    if (!names.insert(q.name).second) return InvalidArgument("duplicate queue " + q.name, "queue.name");
    if (!q.model.empty() && q.model != "local" && !c.find_model(q.model)) {
      return InvalidArgument("queue " + q.name + ": unknown model alias " + q.model, "queue.model");
    }
  }
  for (const char* builtin : {"default", "batch"}) {
    if (!names.count(builtin)) c.queues.push_back(QueueConfig{builtin, 256, 0, ""});
  }
  names.clear();
  for (auto& s : c.schedules) {
    if (!names.insert(s.name).second) return InvalidArgument("duplicate schedule " + s.name, "schedule.name");
    if (!c.find_queue(s.queue)) {
      return InvalidArgument("schedule " + s.name + ": unknown queue " + s.queue, "schedule.queue");
    }
  }
  long long reserved = 0;
  for (auto& q : c.queues) reserved += q.reserved;
  if (reserved > c.worker.concurrency) {
    return InvalidArgument("queues reserve more slots than worker.concurrency", "queue.reserved");
  }
  return Status::Ok();
}

}  // namespace

Status CheckLogConfig(const LogConfig& log) {
  static const std::set<std::string> kLevels = {"debug", "info", "warn", "error", "off"};
  if (!kLevels.count(log.level)) {
    return InvalidArgument(
        "log.level must be debug, info, warn, error or off, not \"" + log.level + "\"",
        "log.level");
  }
  if (log.format != "text" && log.format != "json") {
    return InvalidArgument("log.format must be text or json, not \"" + log.format + "\"",
                           "log.format");
  }
  return Status::Ok();
}

Result<Config> Config::Parse(const std::string& text, const std::string& base_dir) {
  Config c;
  toml::table root;
  try {
    root = toml::parse(text);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "line " << e.source().begin.line << ": not valid TOML: " << e.description();
    return InvalidArgument(os.str());
  }
  static const std::set<std::string> kTopLevel = {"server", "provider",  "model",    "queue",
                                                  "worker", "tasks",     "webhooks", "schedule",
                                                  "auth",   "retention", "events",   "log",
                                                  "privacy", "billing",   "audit"};
  for (auto& [k, v] : root) {
    if (!kTopLevel.count(std::string(k.str()))) {
      return InvalidArgument("unknown config section " + std::string(k.str()), std::string(k.str()));
    }
  }
  if (auto* t = root["server"].as_table()) RETURN_IF_ERROR(ReadServer(*t, c.server));
  if (auto* t = root["worker"].as_table()) RETURN_IF_ERROR(ReadWorker(*t, c.worker));
  if (auto* t = root["tasks"].as_table()) {
    TableReader r(*t, "tasks");
    r.str("dir", c.tasks_dir);
    RETURN_IF_ERROR(r.finish());
  }
  if (auto* t = root["auth"].as_table()) {
    TableReader r(*t, "auth");
    r.str("admin_key_env", c.auth.admin_key_env);
    r.duration("key_cache", c.auth.key_cache);
    RETURN_IF_ERROR(r.finish());
    if (c.auth.admin_key_env.empty() || c.auth.key_cache <= 0 || c.auth.key_cache > 5'000) {
      return InvalidArgument(
          "auth.admin_key_env must name a variable and auth.key_cache be in (0s, 5s] (a revoked "
          "key must stop working within 5 s)",
          "auth");
    }
  }
  if (auto* t = root["webhooks"].as_table()) {
    TableReader r(*t, "webhooks");
    r.str("secret_env", c.webhooks.secret_env);
    r.strings("allow_hosts", c.webhooks.allow_hosts);
    r.duration("retry_base", c.webhooks.retry_base);
    r.duration("retry_max", c.webhooks.retry_max);
    r.integer("max_attempts", c.webhooks.max_attempts, 1, 1000);
    r.duration("max_age", c.webhooks.max_age);
    r.duration("timeout", c.webhooks.timeout);
    r.integer("concurrency", c.webhooks.concurrency, 1, 100'000);
    r.integer("per_host_concurrency", c.webhooks.per_host_concurrency, 1, 100'000);
    RETURN_IF_ERROR(r.finish());
    if (c.webhooks.retry_base <= 0 || c.webhooks.retry_max < c.webhooks.retry_base) {
      return InvalidArgument("webhooks.retry_base must be positive and at most retry_max",
                             "webhooks.retry_base");
    }
    if (c.webhooks.timeout <= 0) {
      return InvalidArgument("webhooks.timeout must be positive", "webhooks.timeout");
    }
  }
  if (auto* t = root["events"].as_table()) {
    TableReader r(*t, "events");
    r.bytes("stream_buffer", c.events.stream_buffer);
    r.window("stall_timeout", c.events.stall_timeout);
    r.integer("max_streams_per_tenant", c.events.max_streams_per_tenant, 1, 1'000'000);
    r.integer("max_streams", c.events.max_streams, 1, 1'000'000);
    RETURN_IF_ERROR(r.finish());
    // Below one event's size the bound means little; above 1 GiB it is no bound.
    constexpr std::int64_t kMinBuffer = 4 << 10, kMaxBuffer = std::int64_t{1} << 30;
    if (c.events.stream_buffer < kMinBuffer || c.events.stream_buffer > kMaxBuffer) {
      return InvalidArgument("events.stream_buffer must be between 4KiB and 1GiB",
                             "events.stream_buffer");
    }
  }
  if (auto* t = root["retention"].as_table()) {
    TableReader r(*t, "retention");
    r.window("jobs", c.retention.jobs);
    r.window("dedup_window", c.retention.dedup_window);
    r.window("audit", c.retention.audit);
    RETURN_IF_ERROR(r.finish());
  }
  if (auto* t = root["audit"].as_table()) {
    TableReader r(*t, "audit");
    r.boolean("enabled", c.audit.enabled);
    RETURN_IF_ERROR(r.finish());
  }
  if (auto* t = root["billing"].as_table()) RETURN_IF_ERROR(ReadBilling(*t, c.billing));
  if (auto* t = root["log"].as_table()) {
    TableReader r(*t, "log");
    r.str("level", c.log.level);
    r.str("format", c.log.format);
    RETURN_IF_ERROR(r.finish());
    RETURN_IF_ERROR(CheckLogConfig(c.log));
  }
  if (auto* t = root["privacy"].as_table()) {
    TableReader r(*t, "privacy");
    r.boolean("builtin_rules", c.privacy.builtin_rules);
    r.read_elsewhere("rule");
    RETURN_IF_ERROR(r.finish());
    RETURN_IF_ERROR(ReadArray(*t, "rule", c.privacy.rules, ReadPrivacyRule));
  }
  RETURN_IF_ERROR(ReadArray(root, "provider", c.providers, ReadProvider));
  RETURN_IF_ERROR(ReadArray(root, "model", c.models, ReadModel));
  RETURN_IF_ERROR(ReadArray(root, "queue", c.queues, ReadQueue));
  RETURN_IF_ERROR(ReadArray(root, "schedule", c.schedules, ReadSchedule));
  RETURN_IF_ERROR(Validate(c));
  c.server.data_dir = Resolve(base_dir, c.server.data_dir);
  c.tasks_dir = Resolve(base_dir, c.tasks_dir);
  for (auto& s : c.schedules) {
    s.inbox = Resolve(base_dir, s.inbox);
    s.drop_file = Resolve(base_dir, s.drop_file);
  }
  return c;
}

Result<Config> Config::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cannot read config file " + path + ": " + std::strerror(errno), "config");
  std::stringstream buf;
  buf << in.rdbuf();
  auto config = Parse(buf.str(), fs::absolute(path).parent_path().string());
  // Every mistake names the file it is in.
  if (!config.ok()) {
    return Status(config.status().code(), path + ": " + config.status().message(), config.status().field());
  }
  return config;
}

const QueueConfig* Config::find_queue(const std::string& name) const {
  for (auto& q : queues) if (q.name == name) return &q;
  return nullptr;
}
const ModelConfig* Config::find_model(const std::string& alias) const {
  for (auto& m : models) if (m.alias == alias) return &m;
  return nullptr;
}
const ProviderConfig* Config::find_provider(const std::string& name) const {
  for (auto& p : providers) if (p.name == name) return &p;
  return nullptr;
}

}  // namespace sluice
