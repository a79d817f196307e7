// How `sluice serve` logs to stderr ([log] level and format, `serve --log-level/--log-format`;
// README "Logs"): the server's own events, one line per request at info (the access log), and
// one line per job state change this node makes at debug.
//
// Lines are written by a thread of their own: a loop thread hands a line over and goes on, and
// when stderr cannot keep up the oldest waiting lines are dropped rather than block a caller.
// text:  2026-12-04T18:30:00.123Z info GET /v1/jobs 202 1.2ms tenant=default 127.0.0.1
// json:  {"ts":"2026-12-04T18:30:00.123Z","level":"info","msg":"request","method":"GET",
//         "path":"/v1/jobs","status":202,"ms":1.2,"tenant":"default","remote":"127.0.0.1"}
// A request line never holds a header, a query string or a body.
#pragma once

#include <functional>

#include "config/config.h"
#include "http/server.h"

namespace sluice {

// Makes spdlog's default logger the one described above (`log` passed CheckLogConfig).
void StartLogging(const LogConfig& log);
// Writes what waits and stops the logging thread; the default logger writes directly again.
void StopLogging();
// For ServerOptions::access_log: one info line per request; none when info is not logged.
std::function<void(const http::AccessRecord&)> AccessLog(const LogConfig& log);

}  // namespace sluice
