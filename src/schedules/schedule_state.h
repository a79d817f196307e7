// When each schedule last fired, kept in one small JSON file (<data_dir>/schedules.json) so
// that a fire missed while the server was down runs once when it starts again.
//
// Format (version 1; a new version adds a reader, the old one stays readable):
//   {"version": 1, "last_fire": {"<schedule name>": "2026-11-29T02:00:00.000Z", ...}}
// Written to a temp file, fsynced and renamed over the old one: a crash leaves the old or the
// new file, never half of one. Not thread-safe (the runner's thread alone uses it).
#pragma once

#include <map>
#include <string>

#include "core/status.h"
#include "core/time.h"

namespace sluice {

class ScheduleState {
 public:
  explicit ScheduleState(std::string path) : path_(std::move(path)) {}

  // Reads the file; a missing file is an empty state. A malformed one is an error (it is ours).
  Status Load();
  // Records a fire and writes the file.
  Status set_last_fire(const std::string& name, Millis at);
  const std::map<std::string, Millis>& last_fires() const { return last_fire_; }

 private:
  std::string path_;
  std::map<std::string, Millis> last_fire_;
};

}  // namespace sluice
