// One line of a JSONL job file as a job body, shared by `sluice batch` and the scheduled
// drop files (schedules/): what a line may be, and the deterministic dedup keys that make a
// re-run of the same file create nothing new.
//
// A line is one of:
//   {"type": "classify_ticket", "input": {...}, ...}   a full job body (API.md "Submit")
//   {"text": "...", "object_id": "...", ...}           job fields without a type; `text` is
//                                                      short for input.text; needs a default type
//                                                      (LineFields maps other names and extras)
//   "some text"                                        a JSON string: the input text; needs a
//                                                      default type
// A blank line (only whitespace) is no job and no error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "core/status.h"

namespace sluice::client {

// How a line of job fields (an object without "type") maps onto a job, for files written for
// something else (`sluice batch --text-field --id-field --extra-fields`). A line that names its
// own "type" is a full job body and is taken as it is.
struct LineFields {
  std::string text_field = "text";  // becomes input.text
  std::string id_field;             // becomes object_id ("": none)
  // Fields that are no job field (core/job.h kJobBodyFields): left for the server to refuse,
  // carried into the job's metadata (beside what the line's own "metadata" holds), or dropped.
  enum class Extra { kRefuse, kMetadata, kIgnore } extra = Extra::kRefuse;
};

// The body of one line, or InvalidArgument saying what is wrong with it; nullopt for a blank
// line. `default_type` fills a missing "type" (empty: every line must name its own). The names
// of extra fields carried or dropped are added to `extra_fields` when given.
Result<std::optional<boost::json::object>> JobBodyFromLine(std::string_view line, const std::string& default_type,
                                                           const LineFields& fields = {},
                                                           std::vector<std::string>* extra_fields = nullptr);

// Sets `key` to `value` unless the body already has it: command-line options are defaults, and
// a line's own fields win.
void SetDefault(boost::json::object& body, std::string_view key, boost::json::value value);

// The dedup key `sluice batch` gives a line that brings none:
// - the line's own "dedup_key" stands;
// - a line with "object_id" keeps the server's default key (<type>:<object_id>:<prompt_version>);
// - otherwise "<prefix>:<sha256 hex of "<line number>\n<the body as sent>">"[first 32 hex].
// The body includes the effect of --type and the other options, and the line number keeps two
// identical lines two jobs; the file's path is not part of it, so a moved or copied file maps to
// the same jobs. Returns the key that was set, or "" when the body keeps its own / the default.
std::string AssignBatchDedupKey(boost::json::object& body, std::int64_t line_number, const std::string& prefix);

}  // namespace sluice::client
