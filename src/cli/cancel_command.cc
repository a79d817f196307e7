// `sluice cancel ID`: POST /v1/jobs/{id}/cancel. Prints the canceled job ("<id> canceled", -o
// json: the job). A job that already ended cannot be canceled: the server's 409 and its message,
// exit 2 (so does an unknown id, 404). A running job's call is stopped too (API.md "Cancel").

#include <boost/json.hpp>

#include "cli/client_commands.h"

namespace sluice {

int RunCancel(const CancelFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  auto job =
      api.post_json("/v1/jobs/" + client::UrlEscape(f.id) + "/cancel", boost::json::object{});
  if (!job.ok()) return ReportError(job.status());
  PrintJob(f.client, *job);
  return kExitOk;
}

}  // namespace sluice
