// A POST /v1/jobs body through validation: parsed as the route parses it (Boost.JSON), then
// ParseJobRequest (api/job_request.cc) against the real config, task types, blob store and
// gateway of fuzz/job_fixture.h. Every outcome is allowed but a crash; a valid job must also
// carry what the store relies on (an id, its tenant, a queue the config has).
#include <boost/json/parse.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string_view>

#include "fuzz/job_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto& fixture = sluice::fuzz::JobFixture::Get();
  boost::system::error_code ec;
  const boost::json::value body =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec) return 0;  // answered invalid_json before validation
  const sluice::JobRequestContext ctx = fixture.context();
  auto job = sluice::ParseJobRequest(body, ctx);
  if (sluice::fuzz::Verbose()) {
    std::fprintf(stderr, "job: %s\n", job.ok() ? "valid" : job.status().ToString().c_str());
  }
  if (!job.ok()) return 0;
  if (job->id.empty() || job->spec.tenant != ctx.tenant ||
      !ctx.config.find_queue(job->spec.queue) || job->spec.run_at < ctx.now ||
      (job->spec.deadline && *job->spec.deadline <= ctx.now)) {
    __builtin_trap();
  }
  return 0;
}
