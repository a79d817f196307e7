// The server's configuration, read from one TOML file (API.md "Configuration"). Every key has a
// default, so `sluice serve` with no file runs a single-node server on loopback. Unknown keys
// are errors: a typo must not silently change behaviour.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace sluice {

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string data_dir = "./sluice-data";
  std::string store;                       // "postgres://..." for the shared store; empty = SQLite
  std::int64_t max_body = 32 << 20;        // bytes
  std::int64_t max_file = 200 << 20;       // bytes of one POST /v1/files upload (OpenAI's limit)
  int max_uploads = 4;                     // uploads held in memory at once (arriving or being stored)
  int sync_max_input_tokens = 2000;
  int io_threads = 2;                      // event-loop threads (HTTP, timers)
  int bulk_limit = 10'000;                 // jobs per POST /v1/jobs/bulk
  Millis max_wait = 60'000;                // longest ?wait= honoured
  bool durable = true;                     // fsync each commit; off only for throwaway stores
  // HTTP connections (http::ServerOptions; "0s" turns a timeout off).
  Millis idle_timeout = 120'000;           // silence while waiting for, reading or writing a request
  Millis header_timeout = 10'000;          // a request head, from its first byte
  Millis body_timeout = 60'000;            // a body, after its head, plus 1 s per body_min_rate bytes
  std::int64_t body_min_rate = 16 << 10;   // bytes a second; 0 = body_timeout is a fixed deadline
  int max_connections = 4096;              // open at once; at the cap, accepting pauses
  bool metrics_public = false;             // /metrics without the admin key (when auth is on)
};

// Authentication (auth/authenticator.h; API.md "Tenants, API keys and quotas").
struct AuthConfig {
  std::string admin_key_env = "SLUICE_ADMIN_KEY";  // the administrator's key is read from here
  // How long a node trusts what it looked up about a key (and its tenant's limits): a revoked
  // key stops working on every node within this, plus the time of one lookup.
  Millis key_cache = 2'000;
};

struct ProviderConfig {
  std::string name;
  std::string base_url;                    // ".../v1"; calls go to {base_url}/chat/completions
  std::string api_key_env;                 // the key is read from this environment variable
  Millis timeout = 60'000;
  int max_concurrency = 256;
  int rpm = 0;                             // requests a minute, 0 = no limit
  int tpm = 0;                             // tokens a minute, 0 = no limit
  std::vector<std::pair<std::string, std::string>> headers;  // extra request headers
  // The largest answer body accepted from it, after decoding (HttpRequest::max_response_bytes).
  // 8 MiB: a chat completion's text is at most its output tokens (128k tokens ≈ 512 KiB), and
  // even JSON's worst escaping (\uXXXX, 6 bytes a character) of that, with several choices or
  // logprobs, stays well below; a larger body is a broken or hostile endpoint, and with
  // thousands of calls in flight each call's worst case is what the server must survive.
  std::int64_t max_response = 8 << 20;
  // Circuit breaker of each of its models (gateway/circuit_breaker.h).
  int circuit_failures = 5;                // open after this many failures in a row
  double circuit_failure_ratio = 0.5;      // or this share of the last circuit_window calls
  int circuit_window = 20;
  Millis circuit_cool_down = 10'000;       // then one probe call
};

struct ModelConfig {
  std::string alias;
  std::string provider;                    // a [[provider]] name, or "local"
  std::string id;                          // the model string sent to the provider
  double input_usd_per_mtok = 0;
  double output_usd_per_mtok = 0;
  // Prompt tokens the provider served from its cache (usage.prompt_tokens_details
  // .cached_tokens) at this price instead of the input price; unset: the input price.
  std::optional<double> cached_input_usd_per_mtok;
  // Reasoning tokens (usage.completion_tokens_details.reasoning_tokens, counted inside
  // completion_tokens) at this price instead of the output price; unset: the output price.
  std::optional<double> reasoning_usd_per_mtok;
  std::vector<std::string> fallback;       // aliases tried in order when this one fails
  std::string params_json = "{}";          // default params merged under the job's
};

struct QueueConfig {
  std::string name;
  int max_concurrency = 256;
  int reserved = 0;                        // slots no other queue may take
  std::string model;                       // preferred alias for its jobs (over the task's)
};

struct WorkerConfig {
  int concurrency = 1024;                  // jobs in flight on this node, all queues together
  Millis lease = 15'000;                   // a claim holds this long unless renewed
  Millis heartbeat = 5'000;                // lease renewal period
  Millis poll = 500;                       // safety-net claim poll; new work wakes at once
  Millis retry_base = 1'000;               // backoff: base * 2^(attempt-1), jittered
  Millis retry_max = 300'000;
  Millis grace = 30'000;                   // SIGTERM: running calls may finish within this
};

struct WebhooksConfig {
  std::string secret_env = "SLUICE_WEBHOOK_SECRET";
  std::vector<std::string> allow_hosts;
  // Delivery (events/webhook_dispatcher.h): the wait after failed attempt n is
  // min(retry_base * 2^(n-1), retry_max), jittered; a delivery gives up after max_attempts
  // attempts or once its event is max_age old, whichever comes first.
  Millis retry_base = 1'000;
  Millis retry_max = 3'600'000;
  int max_attempts = 36;                   // with the defaults: about a day of retries
  Millis max_age = 86'400'000;
  Millis timeout = 10'000;                 // per delivery attempt
  int concurrency = 256;                   // deliveries in flight on this node
  // Of those, at most this many to one receiver (host:port), so that one slow receiver cannot
  // hold every slot: its further deliveries wait while other receivers' go out.
  int per_host_concurrency = 8;
};

// [events]: the live event stream, GET /v1/events (events/event_stream.h). Together the caps
// bound what streams may hold: at most max_streams × stream_buffer bytes waiting for clients.
struct EventsConfig {
  // Bytes written to one stream and not yet sent to its client, at most: a slower client is
  // fed only as fast as it reads (its events wait in the store, not in memory).
  std::int64_t stream_buffer = 1 << 20;
  // A stream with bytes waiting and nothing sent for this long is closed ("0": never); its
  // client resumes with Last-Event-ID and loses nothing.
  Millis stall_timeout = 30'000;
  int max_streams_per_tenant = 64;  // open streams of one tenant on this node; past it 429
  int max_streams = 4096;           // open streams on this node; past it 429
};

// A scheduled batch ([[schedule]]): at each fire of `cron` (5 fields, UTC; schedules/cron.h)
// every new file of `inbox`, or every new line of `drop_file`, becomes a job of `type`
// (schedules/schedule_runner.h). Exactly one of inbox / drop_file is set.
struct ScheduleConfig {
  std::string name;
  std::string cron;
  std::string type;                        // a task type
  std::string inbox;                       // a folder: each regular file is one job's input text
  std::string drop_file;                   // a JSONL file: each line is one job (client/job_line.h)
  std::string queue = "batch";
  int priority = -1;                       // -1: the API's default
  std::string metadata_json;               // empty: none
};

// [retention]: how long what has ended is kept (retention/retention_runner.h).
struct RetentionConfig {
  // Terminal jobs, final batches with their files, and blobs no remaining job needs are deleted
  // once they ended (blobs: were last used) longer ago than this. 0 ("0"): kept forever.
  Millis jobs = 0;
  // StoreOptions::dedup_window: a dedup key whose job ended longer ago than this makes a new
  // job. 0 ("0"): dedup keys never expire.
  Millis dedup_window = 30LL * 24 * 3600 * 1000;
  // Audit records made longer ago than this are deleted, whole UTC days at a time, the last
  // one deleted kept as the anchor of the rest (store/audit_records.h). 0: kept forever.
  Millis audit = 0;
};

// [audit]: the tamper-evident log of model calls, review actions and key and tenant changes
// (API.md "Audit log"; store/audit_records.h).
struct AuditConfig {
  bool enabled = true;  // off: nothing is recorded (and /v1/audit shows what was before)
};

// [log]: what `sluice serve` writes to stderr (cli/logging.h). info: one line per request (the
// access log) and the server's own events; debug adds one line per job state change made here.
struct LogConfig {
  std::string level = "info";   // debug | info | warn | error | off
  std::string format = "text";  // text | json (one JSON object a line)
};
// InvalidArgument naming log.level or log.format when either is not one of the above.
Status CheckLogConfig(const LogConfig& log);

// [privacy]: PII masking (privacy/pii_rules.h). Only the rules' shape is read here; their
// patterns are compiled (and a bad one refused) where masking is set up.
struct PrivacyRuleConfig {
  std::string name;     // the placeholder's type: PASSPORT → [PASSPORT_1]
  std::string pattern;  // RE2
  std::string check = "none";  // luhn | iban | kz_iin | phone | none
};
struct PrivacyConfig {
  bool builtin_rules = true;              // EMAIL, PHONE, CARD, IBAN, IIN
  std::vector<PrivacyRuleConfig> rules;   // [[privacy.rule]]; a built-in's name replaces it
};

// [billing]: what the costs report converts USD into (API.md "Costs report").
struct BillingConfig {
  // Units of each currency per USD, by ISO-style code of 3 uppercase letters ("KZT" = 520.0).
  // USD itself is always 1 and needs no entry.
  std::map<std::string, double> rates;
};

struct Config {
  ServerConfig server;
  std::vector<ProviderConfig> providers;
  std::vector<ModelConfig> models;
  std::vector<QueueConfig> queues;         // always holds "default" and "batch"
  WorkerConfig worker;
  std::string tasks_dir = "./tasks";
  WebhooksConfig webhooks;
  EventsConfig events;
  std::vector<ScheduleConfig> schedules;
  AuthConfig auth;
  RetentionConfig retention;
  AuditConfig audit;
  LogConfig log;
  PrivacyConfig privacy;
  BillingConfig billing;

  // Parses TOML text; `base_dir` resolves relative paths (data_dir, tasks dir).
  static Result<Config> Parse(const std::string& toml_text, const std::string& base_dir);
  static Result<Config> Load(const std::string& path);

  const QueueConfig* find_queue(const std::string& name) const;
  const ModelConfig* find_model(const std::string& alias) const;
  const ProviderConfig* find_provider(const std::string& name) const;
};

}  // namespace sluice
