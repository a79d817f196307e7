// Turning a claimed job into the model call of its attempt: the alias to call, the chat body,
// and what its answer will be checked against. For a task job the prompt is rendered from the
// job's pinned prompt version; a "chat" job carries its own OpenAI body.
#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "blobs/blob_store.h"
#include "config/config.h"
#include "core/job.h"
#include "core/status.h"
#include "tasks/registry.h"

namespace sluice {

class ModelGateway;

struct PreparedCall {
  std::string alias;
  boost::json::object request;
  const ResponseSchema* schema = nullptr;  // null: any non-empty text is a valid answer
  const ReviewRule* review = nullptr;
};

// InvalidArgument when the job cannot be run as stored (its task type or version vanished
// from the tasks dir, its blob is gone, its template names a variable it lacks): such a job
// fails for good, no retry can fix it.
Result<PreparedCall> PrepareCall(const Job& job, const TaskRegistry& tasks, const BlobStore& blobs,
                                 const ModelGateway& gateway, const QueueConfig* queue);

// The alias a job runs on when it pins none: its queue's preferred alias, else the task
// type's, else "local". So a queue can route its work to a cheaper or faster model.
std::string DefaultAlias(const TaskType& task, const QueueConfig* queue, const ModelGateway& gateway);

}  // namespace sluice
