// What the client commands (`sluice submit/get/wait/batch/stats`) share: the server options,
// the output format, the exit codes scripts rely on, and waiting for one job.
//
// Exit codes (README "Command line"):
//   0  success: every job asked about ended `done` (or nothing had to be waited for)
//   1  a job ended failed, expired or canceled, or waits in review (a person must look)
//   2  usage or input error: bad flags, an invalid job or line, an unknown id (any 4xx but 429)
//   3  the server is unreachable or failed (connection refused, 5xx, 429, no answer in time)
//   4  timed out waiting for jobs to end (they go on in the background)
#pragma once

#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "client/api_client.h"
#include "core/status.h"
#include "core/time.h"

namespace CLI {
class App;
}

namespace sluice {

enum ExitCode : int {
  kExitOk = 0,
  kExitJobFailed = 1,
  kExitUsage = 2,
  kExitServer = 3,
  kExitTimeout = 4,
};

struct ClientFlags {
  std::string server;           // --server; default SLUICE_SERVER, else http://127.0.0.1:8080
  std::string output = "text";  // -o text|json
};

// --server, -o/--output, --json-output on a client subcommand.
void AddClientOptions(CLI::App& cmd, ClientFlags& flags);
client::ClientOptions ClientOptionsFor(const ClientFlags& flags);

int ExitCodeFor(const Status& status);
// 0 for done, 1 for any other settled status.
int ExitCodeForJob(const std::string& status);
// "sluice: <message>" on stderr; returns ExitCodeFor(status).
int ReportError(const Status& status);

// Long-polls GET /v1/jobs/{id}?wait= until the job is settled (terminal or review); returns it.
// kDeadlineExceeded when `deadline` (a SystemClock time) passes first; a missing deadline waits
// as long as it takes.
Result<boost::json::object> WaitForSettled(client::ApiClient& api, const std::string& id, std::optional<Millis> deadline);

// A settled job for people: "<id> <status>", then its output (done, review) or its error.
void PrintJobText(const boost::json::object& job);
// A job the server answered with, as -o asks: compact JSON, or PrintJobText.
void PrintJob(const ClientFlags& flags, const boost::json::value& job);
std::string JobStatusOf(const boost::json::object& job);

// Reads "@path" as the file's text, anything else as itself. kInvalidArgument naming `flag`.
Result<std::string> ReadArgOrFile(const std::string& value, const std::string& flag);
Result<std::string> ReadWholeFile(const std::string& path);
// "cannot read <path>: <strerror(errno)>", naming `path`: right after the failed open or read.
Status CannotRead(const std::string& path);

}  // namespace sluice
