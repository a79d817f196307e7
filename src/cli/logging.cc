#include "cli/logging.h"

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include <boost/json/string.hpp>
#include <boost/json/value.hpp>
#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "json/json_text.h"

namespace sluice {

namespace {

constexpr char kTime[] = "%Y-%m-%dT%H:%M:%S.%eZ";
constexpr char kAccessLogger[] = "access";
// Lines waiting for the logging thread at most; past it the oldest are dropped.
constexpr std::size_t kQueuedLines = 8192;

void AppendJsonString(std::string& out, std::string_view text) {
  AppendJsonText(out, boost::json::value(boost::json::string(text)));
}

// %* in a JSON pattern: the message as a JSON string.
class JsonMessage final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string quoted;
    AppendJsonString(quoted, std::string_view(msg.payload.data(), msg.payload.size()));
    dest.append(quoted.data(), quoted.data() + quoted.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessage>();
  }
};

// The default logger's pattern; the access logger's message is already the line's fields.
std::unique_ptr<spdlog::formatter> Formatter(const LogConfig& log, bool access) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (log.format == "json") {
    formatter->add_flag<JsonMessage>('*');
    formatter->set_pattern(std::string("{\"ts\":\"") + kTime + "\",\"level\":\"%l\"," +
                           (access ? "\"msg\":\"request\",%v}" : "\"msg\":%*}"));
  } else {
    formatter->set_pattern(std::string(kTime) + (access ? " %l %v" : " %^%l%$ %v"));
  }
  return formatter;
}

std::shared_ptr<spdlog::logger> AsyncLogger(const char* name, spdlog::sink_ptr sink) {
  return std::make_shared<spdlog::async_logger>(name, std::move(sink), spdlog::thread_pool(),
                                                spdlog::async_overflow_policy::overrun_oldest);
}

void AppendMs(std::string& out, double ms) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%.1f", std::isfinite(ms) ? ms : 0.0);
  out.append(buf, static_cast<std::size_t>(n));
}

std::string TextLine(const http::AccessRecord& r) {
  std::string line;
  line.reserve(96);
  line.append(r.method.empty() ? "-" : r.method).push_back(' ');
  line.append(r.path.empty() ? "-" : r.path).push_back(' ');
  line.append(r.status ? std::to_string(r.status) : "-").push_back(' ');
  AppendMs(line, r.ms);
  line.append("ms tenant=").append(r.caller.empty() ? "-" : r.caller);
  line.append(" ").append(r.remote);
  if (!r.complete) line.append(" (closed before the answer was written)");
  return line;
}

std::string JsonFields(const http::AccessRecord& r) {
  std::string line;
  line.reserve(160);
  line.append("\"method\":");
  AppendJsonString(line, r.method);
  line.append(",\"path\":");
  AppendJsonString(line, r.path);
  line.append(",\"status\":").append(std::to_string(r.status));
  line.append(",\"ms\":");
  AppendMs(line, r.ms);
  line.append(",\"tenant\":");
  AppendJsonString(line, r.caller);
  line.append(",\"remote\":");
  AppendJsonString(line, r.remote);
  line.append(",\"complete\":").append(r.complete ? "true" : "false");
  return line;
}

}  // namespace

void StartLogging(const LogConfig& log) {
  // One thread writes every line, so the two loggers' lines never interleave mid-line.
  spdlog::init_thread_pool(kQueuedLines, 1);
  // A sink each: a logger's formatter is its sinks'.
  auto sink = [&log]() -> spdlog::sink_ptr {
    if (log.format == "json") return std::make_shared<spdlog::sinks::stderr_sink_mt>();
    return std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  };
  const auto level = spdlog::level::from_str(log.level);

  auto main = AsyncLogger("sluice", sink());
  main->set_formatter(Formatter(log, false));
  main->set_level(level);
  spdlog::set_default_logger(main);

  auto access = AsyncLogger(kAccessLogger, sink());
  access->set_formatter(Formatter(log, true));
  access->set_level(level);
  spdlog::register_logger(access);
}

void StopLogging() {
  auto direct = std::make_shared<spdlog::logger>(
      "sluice", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  direct->set_pattern(std::string(kTime) + " %^%l%$ %v", spdlog::pattern_time_type::utc);
  direct->set_level(spdlog::default_logger_raw()->level());
  spdlog::set_default_logger(direct);
  spdlog::drop(kAccessLogger);
  // The pool's destructor writes every line still queued, then joins its thread.
  spdlog::details::registry::instance().set_tp(nullptr);
}

std::function<void(const http::AccessRecord&)> AccessLog(const LogConfig& log) {
  auto logger = spdlog::get(kAccessLogger);
  if (!logger || !logger->should_log(spdlog::level::info)) return {};
  if (log.format == "json") {
    return [logger](const http::AccessRecord& r) { logger->info(JsonFields(r)); };
  }
  return [logger](const http::AccessRecord& r) { logger->info(TextLine(r)); };
}

}  // namespace sluice
