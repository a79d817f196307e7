// `sluice get ID`: the job object (with its result when it has one), or with --result the
// result record alone (exit 2 while there is none: the server answers 404).
#include <cstdio>

#include <boost/json.hpp>

#include "cli/client_commands.h"
#include "client/pretty_json.h"
#include "json/json_text.h"

namespace sluice {

int RunGet(const GetFlags& f) {
  client::ApiClient api(ClientOptionsFor(f.client));
  std::string path = "/v1/jobs/" + f.id + (f.result ? "/result" : "");
  auto body = api.get_json(path);
  if (!body.ok()) return ReportError(body.status());
  if (f.client.output == "json") std::printf("%s\n", JsonText(*body).c_str());
  else std::printf("%s\n", client::PrettyJson(*body).c_str());
  return kExitOk;
}

}  // namespace sluice
