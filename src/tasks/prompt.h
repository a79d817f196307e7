// Turning a job into the model call: prompt templates and the OpenAI chat-completions body.
//
// Templates are plain text with {{name}} tags, where a name is a dotted path into the variables:
// {{text}} (the job's input text), {{object_id}}, {{metadata.customer.tier}}. Spaces inside the
// braces are allowed ({{ text }}). Single braces are ordinary text, so a JSON example in a prompt
// needs no escaping; a "{{" that does not open a well-formed tag is an error, so a typo fails
// when the registry loads instead of reaching a model. Values are inserted once and never
// expanded again: input that contains "{{x}}" reaches the model literally.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "tasks/task_type.h"

namespace sluice {

// The names a template may start a tag with.
inline constexpr const char* kTemplateRoots[] = {"text", "object_id", "metadata"};

// The variables a template names, in order of appearance ("metadata.customer"). InvalidArgument
// for an unclosed or malformed tag, or a root outside kTemplateRoots.
Result<std::vector<std::string>> TemplateVariables(std::string_view tmpl);

// Renders `tmpl` with `vars`. Strings are inserted as they are, other values as compact JSON.
// A variable with no value (or a path through a non-object) is InvalidArgument naming it, with
// field() set to the request field it comes from ("input.text", "metadata.customer").
Result<std::string> RenderTemplate(std::string_view tmpl, const boost::json::object& vars);

// What one job brings to its prompt.
struct RenderInput {
  std::string text;                      // the input text (after PII masking, if any)
  std::optional<std::string> object_id;  // absent: {{object_id}} is a missing variable
  boost::json::object metadata;
  boost::json::object params;  // the job's params, over the version's
  std::string model;           // provider model id for "model"; "" leaves it out
  // The job's response_schema when it differs from the version's; null = the version's.
  const ResponseSchema* schema = nullptr;
};

// {"text": ..., "object_id": ..., "metadata": {...}} for RenderTemplate.
boost::json::object TemplateVars(const RenderInput& input);

// Keys neither a task version's params nor a job's params may set: each would change the
// contract of the call (its prompt, schema or answer shape) or slip past the cost limit and
// the alias's prices. The reasons sit beside the list in prompt.cc. Sampling knobs
// (temperature, top_p, seed, stop, logit_bias, user, ...) stay open; max_tokens,
// max_completion_tokens and n are open but range-checked at submit (api/job_request.cc).
bool IsReservedParam(std::string_view key);
// Why `key` is reserved, as a sentence for the error message; "" when it is not.
std::string_view ReservedParamReason(std::string_view key);

// The chat-completions body of one attempt:
//   {"model": in.model, "messages": [{"role": "system", ...}, {"role": "user", ...}],
//    <version params, then job params>,
//    "response_format": {"type": "json_schema",
//                        "json_schema": {"name": <schema>, "strict": true, "schema": {...}}}}
// The system message is left out when the version has none; response_format when there is no
// schema. A job param that is reserved (model, messages, ...) is InvalidArgument on
// "params.<key>"; template errors are as in RenderTemplate.
Result<boost::json::object> BuildChatRequest(const TaskVersion& version, const RenderInput& input);

}  // namespace sluice
