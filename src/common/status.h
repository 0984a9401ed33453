// Status and Result<T>: expected failures as values.
//
// A Status carries a canonical code and a message that says what failed, on
// which value, and what to do. Result<T> is either a value or a non-ok Status.
//
//   Result<Raster> loadCrest(const Path& path) {
//     SMMHUB_ASSIGN_OR_RETURN(auto bytes, readFile(path));
//     if (bytes.empty()) {
//       return Status::invalidArgument(path.string() + ": file is empty");
//     }
//     ...
//   }
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace smmhub {

enum class StatusCode {
  kOk,
  kInvalidArgument,
  kNotFound,
  kAlreadyExists,
  kFailedPrecondition,
  kPermissionDenied,
  kUnauthenticated,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kCancelled,
  kDataLoss,
  kInternal,
};

// Returns the lowercase name of a code, such as "invalid argument".
std::string_view statusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status invalidArgument(std::string message) {
    return {StatusCode::kInvalidArgument, std::move(message)};
  }
  static Status notFound(std::string message) {
    return {StatusCode::kNotFound, std::move(message)};
  }
  static Status failedPrecondition(std::string message) {
    return {StatusCode::kFailedPrecondition, std::move(message)};
  }
  static Status resourceExhausted(std::string message) {
    return {StatusCode::kResourceExhausted, std::move(message)};
  }
  static Status unavailable(std::string message) {
    return {StatusCode::kUnavailable, std::move(message)};
  }
  static Status dataLoss(std::string message) {
    return {StatusCode::kDataLoss, std::move(message)};
  }
  static Status internal(std::string message) {
    return {StatusCode::kInternal, std::move(message)};
  }
  static Status cancelled(std::string message) {
    return {StatusCode::kCancelled, std::move(message)};
  }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "CONTEXT: MESSAGE", for callers that add
  // the place (file, row, JSON pointer) to an error from below.
  Status withContext(std::string_view context) const;

  // "invalid argument: MESSAGE", or "ok".
  std::string toString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status okStatus() {
  return {};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : state_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return std::holds_alternative<T>(state_); }

  // REQUIRES: !ok().
  const Status& status() const { return std::get<Status>(state_); }

  // REQUIRES: ok().
  T& value() & { return std::get<T>(state_); }
  const T& value() const& { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> state_;
};

namespace internal {
inline Status toStatus(const Status& status) {
  return status;
}
template <typename T>
Status toStatus(const Result<T>& result) {
  return result.ok() ? Status() : result.status();
}
}  // namespace internal

}  // namespace smmhub

#define SMMHUB_CONCAT_INNER(a, b) a##b
#define SMMHUB_CONCAT(a, b) SMMHUB_CONCAT_INNER(a, b)

// Returns the status of EXPR from the enclosing function when it is not ok.
#define SMMHUB_RETURN_IF_ERROR(expr)                                     \
  do {                                                                   \
    ::smmhub::Status smmhub_status = ::smmhub::internal::toStatus(expr); \
    if (!smmhub_status.ok()) {                                           \
      return smmhub_status;                                              \
    }                                                                    \
  } while (false)

#define SMMHUB_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) {                                   \
    return tmp.status();                             \
  }                                                  \
  lhs = std::move(tmp).value()

// Evaluates EXPR (a Result<T>); returns its status when not ok, otherwise
// moves the value into LHS, which may be a declaration (`auto x`).
#define SMMHUB_ASSIGN_OR_RETURN(lhs, expr) \
  SMMHUB_ASSIGN_OR_RETURN_IMPL(SMMHUB_CONCAT(smmhub_result_, __LINE__), lhs, expr)
