// The client commands of the binary: `sluice submit`, `get`, `wait`, `batch`, `stats`, each
// talking to a running server over HTTP (API.md "Command line"; exit codes in client_common.h).
// One file per command: submit_command.cc, get_command.cc, wait_command.cc, batch_command.cc,
// stats_command.cc.
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

struct ClientCommands {
  SubmitFlags submit;
  GetFlags get;
  WaitFlags wait;
  BatchFlags batch;
  StatsFlags stats;
  CLI::App* submit_cmd = nullptr;
  CLI::App* get_cmd = nullptr;
  CLI::App* wait_cmd = nullptr;
  CLI::App* batch_cmd = nullptr;
  CLI::App* stats_cmd = nullptr;
};

void AddClientCommands(CLI::App& app, ClientCommands& commands);
// The exit code of the client command that was parsed, or -1 when none was.
int RunClientCommand(const ClientCommands& commands);

int RunSubmit(const SubmitFlags& flags);
int RunGet(const GetFlags& flags);
int RunWait(const WaitFlags& flags);
int RunBatch(const BatchFlags& flags);
int RunStats(const StatsFlags& flags);

void AddJobFieldOptions(CLI::App& cmd, JobFieldFlags& fields);
// Sets the given fields on `body`: overriding (submit) or only where absent (batch lines).
Status ApplyJobFields(const JobFieldFlags& fields, boost::json::object& body, bool override_body);

}  // namespace sluice
