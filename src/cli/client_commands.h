// The client commands of the binary: `sluice submit`, `get`, `wait`, `batch`, `stats`, `cancel`,
// `review`, `list`, `events`, `files …`, `batches …`, `report costs`, each talking to a running
// server over HTTP (API.md "Command line"; exit codes in client_common.h), and `config check`,
// which reads the files a server would start from and talks to nothing. One file per command
// (or group): submit_command.cc, get_command.cc, wait_command.cc, batch_command.cc,
// stats_command.cc, cancel_command.cc, review_command.cc, list_command.cc, events_command.cc,
// files_command.cc, batches_command.cc, report_command.cc, config_command.cc.
#pragma once

#include <string>
#include <vector>

#include "cli/client_common.h"

namespace CLI {
class App;
}

namespace sluice {

// Job fields settable from the command line (submit and batch).
struct JobFieldFlags {
  std::string type;
  std::string queue;
  int priority = -1;  // -1: not given
  std::string object_id;
  std::string dedup_key;
  std::string deadline_in;
  std::string run_in;
  std::string model;
  std::string source;
  std::string prompt_version;
  int max_attempts = 0;  // 0: not given
  std::string metadata;  // a JSON object, or @file
  bool mask_pii = false;  // true: "mask_pii": true
};

struct SubmitFlags {
  ClientFlags client;
  JobFieldFlags fields;
  std::string text;
  std::string input_file;
  std::string json;  // a full job body, or @file
  std::string wait;  // "" = no wait; "--wait" alone = 30s
  std::int64_t blob_threshold = 64 * 1024;  // inputs larger than this go up as blobs
};

struct GetFlags {
  ClientFlags client;
  std::string id;
  bool result = false;
};

struct WaitFlags {
  ClientFlags client;
  std::string id;
  std::string timeout;  // "" = no limit
};

struct BatchFlags {
  ClientFlags client;
  JobFieldFlags fields;
  std::string file;
  bool wait = false;
  std::string timeout;  // with --wait; "" = no limit
  std::string out;
  std::string dedup_prefix = "batch";
  std::string text_field = "text";        // a line's field that is the input text
  std::string id_field;                   // a line's field that is its object_id
  std::string extra_fields = "metadata";  // other fields: metadata | ignore | refuse
  int chunk = 1000;
  int concurrency = 32;
  std::string progress = "auto";  // auto | bar | plain | none
};

struct StatsFlags {
  ClientFlags client;
  std::string window;
};

struct CancelFlags {
  ClientFlags client;
  std::string id;
};

// Exactly one of approve, reject, retry (an option group makes it so).
struct ReviewFlags {
  ClientFlags client;
  std::string id;
  bool approve = false;
  bool reject = false;
  bool retry = false;
  std::string job_output;  // approve: a JSON value or @file; "": the job's own output as it stands
  std::string reason;      // reject
  std::string model;       // retry: an alias to pin
};

struct ListFlags {
  ClientFlags client;
  std::string status;
  std::string type;
  std::string queue;
  std::string object_id;
  std::string after;  // a `next` cursor of an earlier page
  int limit = 0;      // 0: the server's default
  bool all = false;   // follow `next` until the last page
  int max_pages = 1000;
};

struct EventsFlags {
  ClientFlags client;
  std::string types;        // "job.done,batch.*"
  std::string job;          // one job's history instead of the live stream
  std::int64_t after = -1;  // resume the stream after this event id
  std::int64_t max_event_bytes = 1 << 20;
};

// `sluice files upload|get|content`.
struct FilesFlags {
  ClientFlags client;
  std::string path;  // upload
  std::string purpose = "batch";
  std::string id;   // get, content
  std::string out;  // content: write here instead of stdout
};

// `sluice batches create|get|list|cancel`.
struct BatchesFlags {
  ClientFlags client;
  std::string id;
  std::string input_file_id;
  std::string endpoint = "/v1/chat/completions";
  std::string completion_window = "24h";
  std::string metadata;  // a JSON object of strings, or @file
  int limit = 0;         // list; 0: the server's default
  std::string after;     // list: a batch id
};

// `sluice report costs --month 2026-11 --currency KZT [-o text|csv|json]`.
struct ReportCostsFlags {
  ClientFlags client;  // output: text (a table), csv or json
  std::string month;     // "": the server's current month
  std::string currency;  // "": USD
};

struct ConfigCheckFlags {
  std::string config_path;  // empty: the defaults, as `serve` without --config
  std::string tasks_dir;    // overrides [tasks] dir
};

struct ClientCommands {
  SubmitFlags submit;
  GetFlags get;
  WaitFlags wait;
  BatchFlags batch;
  StatsFlags stats;
  CancelFlags cancel;
  ReviewFlags review;
  ListFlags list;
  EventsFlags events;
  FilesFlags files;
  BatchesFlags batches;
  ReportCostsFlags report_costs;
  ConfigCheckFlags config_check;
  CLI::App* submit_cmd = nullptr;
  CLI::App* get_cmd = nullptr;
  CLI::App* wait_cmd = nullptr;
  CLI::App* batch_cmd = nullptr;
  CLI::App* stats_cmd = nullptr;
  CLI::App* cancel_cmd = nullptr;
  CLI::App* review_cmd = nullptr;
  CLI::App* list_cmd = nullptr;
  CLI::App* events_cmd = nullptr;
  CLI::App* files_upload_cmd = nullptr;
  CLI::App* files_get_cmd = nullptr;
  CLI::App* files_content_cmd = nullptr;
  CLI::App* batches_create_cmd = nullptr;
  CLI::App* batches_get_cmd = nullptr;
  CLI::App* batches_list_cmd = nullptr;
  CLI::App* batches_cancel_cmd = nullptr;
  CLI::App* report_costs_cmd = nullptr;
  CLI::App* config_check_cmd = nullptr;
};

void AddClientCommands(CLI::App& app, ClientCommands& commands);
// The exit code of the client command that was parsed, or -1 when none was.
int RunClientCommand(const ClientCommands& commands);

int RunSubmit(const SubmitFlags& flags);
int RunGet(const GetFlags& flags);
int RunWait(const WaitFlags& flags);
int RunBatch(const BatchFlags& flags);
int RunStats(const StatsFlags& flags);
int RunCancel(const CancelFlags& flags);
int RunReview(const ReviewFlags& flags);
int RunList(const ListFlags& flags);
int RunEvents(const EventsFlags& flags);
int RunFilesUpload(const FilesFlags& flags);
int RunFilesGet(const FilesFlags& flags);
int RunFilesContent(const FilesFlags& flags);
int RunBatchesCreate(const BatchesFlags& flags);
int RunBatchesGet(const BatchesFlags& flags);
int RunBatchesList(const BatchesFlags& flags);
int RunBatchesCancel(const BatchesFlags& flags);
int RunReportCosts(const ReportCostsFlags& flags);
int RunConfigCheck(const ConfigCheckFlags& flags);

void AddJobFieldOptions(CLI::App& cmd, JobFieldFlags& fields);
// Sets the given fields on `body`: overriding (submit) or only where absent (batch lines).
Status ApplyJobFields(const JobFieldFlags& fields, boost::json::object& body, bool override_body);

}  // namespace sluice
