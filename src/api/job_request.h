// Validation of a submitted job (API.md "Submit"): every field is checked, defaults are filled
// from the task type, and the first problem is returned as InvalidArgument naming its field.
// Nothing reaches the store unless the whole job is valid.
#pragma once

#include <boost/json/value.hpp>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/job.h"
#include "core/status.h"
#include "gateway/gateway.h"
#include "tasks/registry.h"

namespace sluice {

struct JobRequestContext {
  const Config& config;
  const TaskRegistry& tasks;
  BlobStore& blobs;  // renews the blobs a job names
  const ModelGateway& gateway;
  Millis now;
  std::string tenant = kDefaultTenant;
  // Masking asked for outside the body: the tenant's mask_pii, or the Sluice-Mask-PII header.
  // A job may turn masking on, never off.
  bool mask_pii = false;
};

inline constexpr std::size_t kMaxMetadataBytes = 16 * 1024;
inline constexpr std::size_t kMaxShortField = 512;

// A new job with id and created_at set, ready for Store::submit_jobs.
Result<Job> ParseJobRequest(const boost::json::value& body, const JobRequestContext& ctx);

}  // namespace sluice
