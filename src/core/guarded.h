// One guard for the unit of work of a long-lived thread (one pass of a runner, one pool task,
// one group commit). An exception that escapes a thread's function is std::terminate: the whole
// process goes, and every in-flight job and request with it. Our code does not throw across
// part boundaries (STYLE.md "Errors"), but the standard library and our dependencies do
// (std::filesystem's throwing overloads, std::bad_alloc for a huge allocation, boost::json), so
// each loop runs its unit of work through RunGuarded: what escapes is logged with what was
// being done and turned into a Status, and the loop goes on. A unit that threw may have left
// its own work half done; the loops are written so that what they did not finish is taken up
// again (a lease runs out, a pass comes round), and RunGuarded's caller answers whoever waits.
//
// After a throw the caller pauses for kPauseAfterThrow before its next unit when the next
// unit may be the same work again (a pass of a runner): a fault that repeats then costs a log
// line a second, not a core spinning.
#pragma once

#include <chrono>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "core/status.h"

namespace sluice {

inline constexpr std::chrono::milliseconds kPauseAfterThrow{1000};

// Where RunGuarded writes its line: stderr unless the part has a logger of its own (a
// captureless lambda around spdlog::error converts to this).
using GuardedLog = void (*)(const std::string& line);

inline void GuardedLogToStderr(const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); }

namespace internal {

// The Status for the exception being handled; call only inside a catch block. Never throws:
// should building the message fail too (memory is short), the Status has no message and the
// log gets a fixed line.
inline Status StatusOfCurrentException(std::string_view what, GuardedLog log) noexcept {
  try {
    std::string line = "internal error: ";
    line.append(what);
    try {
      throw;
    } catch (const std::exception& e) {
      line += " threw ";
      line += typeid(e).name();
      line += ": ";
      line += e.what();
    } catch (...) {
      line += " threw a non-standard exception";
    }
    if (log) log(line);
    return Internal(std::move(line));
  } catch (...) {
    std::fputs("internal error: a guarded unit of work threw, and describing it threw too\n", stderr);
    return Status(StatusCode::kInternal, std::string());
  }
}

}  // namespace internal

// Calls `work()`. When it returns, RunGuarded returns what it returned: a Status or Result<T>
// as is, Status::Ok() for void. When it throws (anything), RunGuarded logs "internal error:
// <what> threw <type>: <message>" and returns an Internal status with that message. `what`
// says what was being done ("batches: a pass"). Never throws.
template <typename F>
auto RunGuarded(std::string_view what, F&& work, GuardedLog log = GuardedLogToStderr) noexcept {
  using R = std::invoke_result_t<F&>;
  using Out = std::conditional_t<std::is_void_v<R>, Status, R>;
  try {
    if constexpr (std::is_void_v<R>) {
      work();
      return Status::Ok();
    } else {
      return Out(work());
    }
  } catch (...) {
    return Out(internal::StatusOfCurrentException(what, log));
  }
}

}  // namespace sluice
