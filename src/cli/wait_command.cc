// `sluice wait ID [--timeout 10m]`: long-polls until the job is terminal or in review. Exit 0
// when done, 1 when it ended otherwise (or waits in review), 4 when the timeout came first.
#include <cstdio>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "client/pretty_json.h"
#include "json/json_text.h"

namespace sluice {

int RunWait(const WaitFlags& f) {
  std::optional<Millis> deadline;
  if (!f.timeout.empty()) {
    auto d = ParseDuration(f.timeout);
    if (!d.ok()) return ReportError(InvalidArgument("--timeout: " + d.status().message()));
    deadline = SystemClock::Instance().now() + *d;
  }
  client::ApiClient api(ClientOptionsFor(f.client));
  auto job = WaitForSettled(api, f.id, deadline);
  if (!job.ok()) {
    if (job.status().code() == StatusCode::kDeadlineExceeded) {
      std::fprintf(stderr, "sluice: job %s did not end within %s\n", f.id.c_str(), f.timeout.c_str());
    } else {
      return ReportError(job.status());
    }
    return kExitTimeout;
  }
  if (f.client.output == "json") std::printf("%s\n", JsonText(*job).c_str());
  else PrintJobText(*job);
  return ExitCodeForJob(JobStatusOf(*job));
}

}  // namespace sluice
