#include "client/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace sluice::client {

namespace {

constexpr Millis kRateWindow = 10'000;
constexpr Millis kBarEvery = 200;  // ~5 Hz

std::optional<double> Eta(const ProgressCounts& c, double rate) {
  if (c.ended >= c.total) return 0.0;
  if (rate <= 0) return std::nullopt;
  return static_cast<double>(c.total - c.ended) / rate;
}

std::string Tail(const ProgressCounts& c, double rate) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "%.1f/s  ETA %s", rate, FormatEta(Eta(c, rate)).c_str());
  std::string out = buf;
  if (c.failed > 0) out += "  failed " + std::to_string(c.failed);
  if (c.review > 0) out += "  review " + std::to_string(c.review);
  return out;
}

int Percent(const ProgressCounts& c) {
  return c.total > 0 ? static_cast<int>(100 * c.ended / c.total) : 100;
}

}  // namespace

std::string FormatEta(std::optional<double> seconds) {
  if (!seconds || !std::isfinite(*seconds)) return "?";
  auto s = static_cast<long long>(std::llround(*seconds));
  char buf[48];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%lld:%02lld", s / 60, s % 60);
  return buf;
}

std::string RenderProgressBar(const ProgressCounts& c, double rate, int width) {
  std::string counts = std::to_string(c.ended) + "/" + std::to_string(c.total) + "  " +
                       std::to_string(Percent(c)) + "%  " + Tail(c, rate);
  int bar = std::clamp(width - static_cast<int>(counts.size()) - 3, 10, 50);
  int filled = c.total > 0 ? static_cast<int>(bar * c.ended / c.total) : bar;
  filled = std::clamp(filled, 0, bar);
  return "[" + std::string(filled, '#') + std::string(bar - filled, '.') + "] " + counts;
}

std::string RenderProgressLine(const ProgressCounts& c, double rate) {
  return "progress: " + std::to_string(c.ended) + "/" + std::to_string(c.total) + " (" +
         std::to_string(Percent(c)) + "%) " + Tail(c, rate);
}

ProgressReporter::ProgressReporter(std::FILE* out, bool terminal, const Clock& clock, Millis line_every)
    : out_(out), terminal_(terminal), clock_(clock), every_(terminal ? kBarEvery : line_every) {}

void ProgressReporter::record(const ProgressCounts& c, Millis now) {
  if (samples_.empty() || samples_.back().second != c.ended || now - samples_.back().first >= 1'000) {
    samples_.emplace_back(now, c.ended);
  }
  while (samples_.size() > 2 && now - samples_[1].first >= kRateWindow) samples_.pop_front();
}

double ProgressReporter::rate() const {
  if (samples_.size() < 2) return 0;
  Millis span = samples_.back().first - samples_.front().first;
  if (span <= 0) return 0;
  return 1000.0 * static_cast<double>(samples_.back().second - samples_.front().second) / static_cast<double>(span);
}

void ProgressReporter::update(const ProgressCounts& c) {
  Millis now = clock_.now();
  record(c, now);
  if (last_draw_ && now - *last_draw_ < every_) return;
  last_draw_ = now;
  draw(c);
}

void ProgressReporter::finish(const ProgressCounts& c) {
  record(c, clock_.now());
  draw(c);
  if (terminal_ && drew_bar_) std::fputc('\n', out_);
  std::fflush(out_);
}

int ProgressReporter::width() const {
  winsize ws{};
  if (ioctl(fileno(out_), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 20) return ws.ws_col - 1;
  return 79;
}

void ProgressReporter::draw(const ProgressCounts& c) {
  if (terminal_) {
    // Carriage return and erase-line: the bar overwrites itself.
    std::fprintf(out_, "\r\033[K%s", RenderProgressBar(c, rate(), width()).c_str());
    drew_bar_ = true;
  } else {
    std::fprintf(out_, "%s\n", RenderProgressLine(c, rate()).c_str());
  }
  std::fflush(out_);
}

}  // namespace sluice::client
