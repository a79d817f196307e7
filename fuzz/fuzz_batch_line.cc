// A batch's JSONL input file, line by line as the batch runner reads it: ParseBatchLine, then
// BatchLineJob with the same job validation as POST /v1/jobs (fuzz/job_fixture.h, as the serve
// command injects it). Byte 0 picks the endpoint (/v1/jobs or /v1/chat/completions); the rest is
// the file. A job made from a line must have the batch's dedup key and a deadline inside the
// completion window.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "batches/batch_line.h"
#include "fuzz/job_fixture.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  auto& fixture = sluice::fuzz::JobFixture::Get();
  const sluice::JobRequestContext ctx = fixture.context();
  sluice::Batch batch;
  batch.id = "batch_fuzz";
  batch.endpoint = (data[0] & 1) ? "/v1/chat/completions" : "/v1/jobs";
  batch.created_at = ctx.now;
  batch.expires_at = ctx.now + 24 * 3'600'000;
  const sluice::JobFromBody job_from_body =
      [&fixture](const boost::json::value& body, const std::string& tenant, sluice::Millis now) {
        sluice::JobRequestContext c = fixture.context(tenant);
        c.now = now;
        return sluice::ParseJobRequest(body, c);
      };
  std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  while (!file.empty()) {
    const std::size_t end = file.find('\n');
    const std::string_view text = file.substr(0, end);
    file.remove_prefix(end == std::string_view::npos ? file.size() : end + 1);
    auto line = sluice::ParseBatchLine(text, batch.endpoint);
    auto job = line.ok() ? sluice::BatchLineJob(*line, batch, job_from_body, ctx.now)
                         : sluice::Result<sluice::Job>(line.status());
    if (sluice::fuzz::Verbose()) {
      std::fprintf(stderr, "line: %s\n", job.ok() ? "job" : job.status().ToString().c_str());
    }
    if (!job.ok()) continue;
    if (job->spec.dedup_key != batch.id + ":" + line->custom_id || !job->spec.deadline ||
        *job->spec.deadline > batch.expires_at || job->spec.run_at >= batch.expires_at) {
      __builtin_trap();
    }
  }
  return 0;
}
