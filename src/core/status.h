// One error vocabulary for the whole server: a Status (code, message, optional field) and a
// Result<T> (a value or a Status). The code, not the message, decides what happens next:
//   kUnavailable        retry the call later (429, 503, timeouts, a busy store)
//   kAborted            the lease was lost: stop, another attempt owns the job
//   kInvalidArgument    bad input: fail for good, answer 400 with `field`
//   kFailedPrecondition the state forbids it (cancel of a finished job): 409
// Expected failures are values; broken invariants are CHECKs that crash.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace sluice {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kAborted,
  kUnavailable,
  kResourceExhausted,
  kDeadlineExceeded,
  kCanceled,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kInternal,
  kUnauthenticated,    // 401: no key or a wrong one
  kPermissionDenied,   // 403: a valid key that may not do this
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, std::string field = {})
      : code_(code), message_(std::move(message)), field_(std::move(field)) {}

  static Status Ok() { return {}; }
  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // The request field at fault ("input.text"), empty when none is.
  const std::string& field() const { return field_; }
  // A short machine code for the API error object; defaults to the code's name.
  const std::string& error_code() const { return error_code_; }
  Status& with_error_code(std::string code) {
    error_code_ = std::move(code);
    return *this;
  }
  // Seconds after which a refused request may be tried again (the Retry-After of a 429/503).
  int retry_after_s() const { return retry_after_s_; }
  Status& with_retry_after(int seconds) {
    retry_after_s_ = seconds;
    return *this;
  }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::string field_;
  std::string error_code_;
  int retry_after_s_ = 0;  // 0: none given
};

inline Status InvalidArgument(std::string msg, std::string field = {}) {
  return {StatusCode::kInvalidArgument, std::move(msg), std::move(field)};
}
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }
inline Status Unauthenticated(std::string msg) {
  return Status(StatusCode::kUnauthenticated, std::move(msg)).with_error_code("unauthorized");
}
inline Status PermissionDenied(std::string msg) {
  return Status(StatusCode::kPermissionDenied, std::move(msg)).with_error_code("forbidden");
}

namespace internal {
// Result's accessors call this on an error: reading the value of a failed Result is a broken
// invariant (the caller skipped ok()), so it crashes with the status it ignored instead of
// throwing std::bad_variant_access, which would say nothing about why.
// `status` is null only for a valueless Result (an exception escaped an assignment).
[[noreturn]] void DieOnErrorResult(const Status* status);
}  // namespace internal

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design, like absl::StatusOr
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      std::fprintf(stderr, "CHECK failed: Result built from an OK status\n");
      std::abort();
    }
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOkStatus;
    return ok() ? kOkStatus : std::get<Status>(v_);
  }
  // value(), -> and * CHECK ok(): on an error they crash, printing the status.
  T& value() & { return *checked(); }
  const T& value() const& { return *checked(); }
  T&& value() && { return std::move(*checked()); }
  T* operator->() { return checked(); }
  const T* operator->() const { return checked(); }
  T& operator*() & { return *checked(); }
  const T& operator*() const& { return *checked(); }

 private:
  T* checked() {
    if (T* v = std::get_if<T>(&v_)) return v;
    internal::DieOnErrorResult(std::get_if<Status>(&v_));
  }
  const T* checked() const {
    if (const T* v = std::get_if<T>(&v_)) return v;
    internal::DieOnErrorResult(std::get_if<Status>(&v_));
  }

  std::variant<T, Status> v_;
};

#define SLUICE_CONCAT_INNER(a, b) a##b
#define SLUICE_CONCAT(a, b) SLUICE_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)            \
  do {                                   \
    ::sluice::Status _st = (expr);       \
    if (!_st.ok()) return _st;           \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  ASSIGN_OR_RETURN_IMPL(SLUICE_CONCAT(_result_, __LINE__), lhs, expr)
#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      std::fprintf(stderr, "CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                    \
    }                                                                                  \
  } while (0)

}  // namespace sluice
