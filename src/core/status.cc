#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace sluice {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid_argument";
    case StatusCode::kNotFound: return "not_found";
    case StatusCode::kAlreadyExists: return "already_exists";
    case StatusCode::kFailedPrecondition: return "conflict";
    case StatusCode::kAborted: return "aborted";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kResourceExhausted: return "rate_limited";
    case StatusCode::kDeadlineExceeded: return "deadline_exceeded";
    case StatusCode::kCanceled: return "canceled";
    case StatusCode::kPayloadTooLarge: return "payload_too_large";
    case StatusCode::kUnsupportedMediaType: return "unsupported_media_type";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kUnauthenticated: return "unauthorized";
    case StatusCode::kPermissionDenied: return "forbidden";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s = StatusCodeName(code_);
  s += ": ";
  s += message_;
  if (!field_.empty()) s += " (field " + field_ + ")";
  return s;
}

namespace internal {

void DieOnErrorResult(const Status* status) {
  std::fprintf(stderr, "CHECK failed: value of a Result holding an error: %s\n",
               status ? status->ToString().c_str() : "(valueless Result)");
  std::abort();
}

}  // namespace internal

}  // namespace sluice
