// The small JSON object stored as a job event's data, built by hand: the store writes only flat
// numbers, strings and one nested error object, which does not justify a JSON library here.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/job.h"
#include "core/time.h"

namespace sluice {

class EventData {
 public:
  EventData& add(std::string_view key, std::int64_t value);
  EventData& add(std::string_view key, std::string_view value);
  // Times appear as RFC 3339 text, as everywhere in the API.
  EventData& add_time(std::string_view key, Millis value);
  // "error": {"code": ..., "message": ...}
  EventData& add_error(const JobError& error);
  std::string str() const { return out_ + "}"; }

 private:
  void key(std::string_view key);
  std::string out_ = "{";
};

// Appends `text` to `out` as a JSON string literal. Invalid UTF-8 becomes U+FFFD, so the output
// is valid JSON whatever bytes a provider's error message carried.
void AppendJsonString(std::string& out, std::string_view text);

}  // namespace sluice
