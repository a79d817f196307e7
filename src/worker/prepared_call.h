// Turning a claimed job into the model call of its attempt: the alias to call, the chat body,
// and what its answer will be checked against. For a task job the prompt is rendered from the
// job's pinned prompt version; a "chat" job carries its own OpenAI body.
#pragma once

#include <boost/json/object.hpp>
#include <map>
#include <memory>
#include <string>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/job.h"
#include "core/status.h"
#include "privacy/pii_masker.h"
#include "tasks/registry.h"

namespace sluice {

class ModelGateway;

struct PreparedCall {
  std::string alias;
  boost::json::object request;
  const ResponseSchema* schema = nullptr;  // null: any non-empty text is a valid answer
  const ReviewRule* review = nullptr;
  // Provenance: the model params each alias of the job's chain is sent — the request's own
  // (version params, then the job's) over the alias's defaults, merged as the gateway merges
  // them — without the parts Sluice builds (model, messages, a task's response_format).
  std::map<std::string, boost::json::object> sent_params;
  boost::json::object request_params;  // the same before any alias's defaults
  // Set when the job masks PII: `request` holds placeholders, and this maps them back. Never
  // stored: the next attempt masks the same input to the same placeholders.
  std::shared_ptr<const privacy::PiiMapping> pii;

  // The params sent to `alias`; the request's own when the chain did not hold it (a walk that
  // made no call reports the job's first alias).
  boost::json::object params_sent_to(const std::string& alias) const;
};

// InvalidArgument when the job cannot be run as stored (its task type or version vanished
// from the tasks dir, its blob is gone, its template names a variable it lacks): such a job
// fails for good, no retry can fix it.
Result<PreparedCall> PrepareCall(const Job& job, const TaskRegistry& tasks, const BlobStore& blobs,
                                 const ModelGateway& gateway, const QueueConfig* queue,
                                 const privacy::PiiMasker& masker);

// The alias a job runs on when it pins none: its queue's preferred alias, else the task
// type's, else "local". So a queue can route its work to a cheaper or faster model.
std::string DefaultAlias(const TaskType& task, const QueueConfig* queue, const ModelGateway& gateway);

}  // namespace sluice
