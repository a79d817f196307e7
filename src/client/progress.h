// Progress of many jobs for a person watching: on a terminal, one bar redrawn in place at most
// every 200 ms (~5 Hz); anywhere else (a pipe, a log file), one plain line every few seconds,
// so logs stay readable. Both say done/total, the rate, an ETA, failures and review.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <optional>
#include <string>

#include "core/time.h"

namespace sluice::client {

struct ProgressCounts {
  std::int64_t total = 0;
  std::int64_t ended = 0;   // every job that settled, whatever its status
  std::int64_t failed = 0;  // failed, expired or canceled
  std::int64_t review = 0;
};

// "[#########.........] 450/1000  45%  120.5/s  ETA 0:05  failed 3  review 1" in `width`
// columns (the bar takes what the text leaves). `rate` in jobs a second, ETA from it.
std::string RenderProgressBar(const ProgressCounts& counts, double rate, int width);
// "progress: 450/1000 (45%) 120.5/s ETA 0:05 failed 3 review 1"
std::string RenderProgressLine(const ProgressCounts& counts, double rate);
// "1:05:09", "4:05", "0:07"; "?" for an unknown ETA.
std::string FormatEta(std::optional<double> seconds);

class ProgressReporter {
 public:
  // `terminal`: draw the bar in place (isatty of `out`); else plain lines every `line_every`.
  ProgressReporter(std::FILE* out, bool terminal, const Clock& clock, Millis line_every = 5'000);
  // Draws if it is time to (the first update always draws).
  void update(const ProgressCounts& counts);
  // The final state, always drawn, ending the bar's line.
  void finish(const ProgressCounts& counts);
  // Jobs a second over the last ~10 s.
  double rate() const;

 private:
  void record(const ProgressCounts& counts, Millis now);
  void draw(const ProgressCounts& counts);
  int width() const;

  std::FILE* out_;
  const bool terminal_;
  const Clock& clock_;
  const Millis every_;
  std::optional<Millis> last_draw_;
  std::deque<std::pair<Millis, std::int64_t>> samples_;  // (time, ended), the last ~10 s
  bool drew_bar_ = false;
};

}  // namespace sluice::client
