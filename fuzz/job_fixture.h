// What fuzz_job_request and fuzz_batch_line validate job bodies against: the real pieces
// POST /v1/jobs uses (a parsed Config, the repository's task types, a file blob store in a
// temporary directory, a model gateway that never calls out), built once per process.
#pragma once

#include <string>

#include "api/job_request.h"

namespace sluice::fuzz {

// The content of the one blob stored at start; its id is kFuzzBlobId (in the dictionary).
inline constexpr char kFuzzBlobContent[] = "a ticket stored as a blob";

// SLUICE_FUZZ_VERBOSE=1: the targets print each outcome (to check what seeds reach).
bool Verbose();

class JobFixture {
 public:
  // Aborts when the fixture cannot be built (a broken fuzz setup, not a finding).
  static JobFixture& Get();

  // A context for `tenant` at a fixed time (deadlines and run_at are relative to it).
  JobRequestContext context(const std::string& tenant = kDefaultTenant);

 private:
  JobFixture();
  struct Parts;
  Parts* parts_;  // never freed: lives as long as the process
};

}  // namespace sluice::fuzz
