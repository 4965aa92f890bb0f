#pragma once
// Status and Result<T>: how every avtrace module reports failure.
//
// A Status is a code plus a human message. OK costs one pointer-sized compare and no allocation,
// so it can be returned from hot paths. No exception crosses a module boundary: code that calls a
// throwing library catches at the call and converts to Status.
//
// Threads: values, freely copyable and movable; no shared state.
// Codes are few on purpose, each with a meaning for the caller (see ToHttpStatus):
//   kInvalidArgument    permanent, the input is wrong          -> 400
//   kResourceExhausted  back off and retry later               -> 429
//   kUnavailable        retry, the server is shutting down...  -> 503
//   kNotFound, kFailedPrecondition, kDeadlineExceeded, kInternal (a bug), kPayloadTooLarge (413),
//   kUnsupportedMediaType (415), kMethodNotAllowed (405), kUnauthenticated (401), kPermissionDenied (403).

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace avtrace {

enum class StatusCode : int {
  kOk = 0,
  kInvalidArgument,
  kNotFound,
  kFailedPrecondition,
  kResourceExhausted,
  kUnavailable,
  kDeadlineExceeded,
  kPayloadTooLarge,
  kUnsupportedMediaType,
  kMethodNotAllowed,
  kUnauthenticated,
  kPermissionDenied,
  kInternal,
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message);

  static Status Ok() { return Status(); }

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ ? rep_->code : StatusCode::kOk; }
  const std::string& message() const;
  // "InvalidArgument: message" or "OK".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context: `.
  Status WithContext(std::string_view context) const;

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };
  // shared_ptr so that copies of an error are cheap; errors are immutable once built.
  std::shared_ptr<const Rep> rep_;
};

inline Status InvalidArgument(std::string msg) { return {StatusCode::kInvalidArgument, std::move(msg)}; }
inline Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
inline Status FailedPrecondition(std::string msg) {
  return {StatusCode::kFailedPrecondition, std::move(msg)};
}
inline Status ResourceExhausted(std::string msg) {
  return {StatusCode::kResourceExhausted, std::move(msg)};
}
inline Status Unavailable(std::string msg) { return {StatusCode::kUnavailable, std::move(msg)}; }
inline Status DeadlineExceeded(std::string msg) {
  return {StatusCode::kDeadlineExceeded, std::move(msg)};
}
inline Status PayloadTooLarge(std::string msg) { return {StatusCode::kPayloadTooLarge, std::move(msg)}; }
inline Status Internal(std::string msg) { return {StatusCode::kInternal, std::move(msg)}; }

// The one mapping from internal errors to protocol answers.
int ToHttpStatus(StatusCode code);
// gRPC status code numbers (grpc::StatusCode values) for the gRPC receiver.
int ToGrpcStatus(StatusCode code);

// Result<T>: a T or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {}  // NOLINT; precondition: !status.ok()

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace avtrace

#define AVT_CONCAT_INNER(a, b) a##b
#define AVT_CONCAT(a, b) AVT_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                   \
  do {                                          \
    ::avtrace::Status avt_status_ = (expr);     \
    if (!avt_status_.ok()) return avt_status_;  \
  } while (0)

#define ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                          \
  if (!tmp.ok()) return tmp.status();         \
  lhs = std::move(tmp).value()

#define ASSIGN_OR_RETURN(lhs, expr) ASSIGN_OR_RETURN_IMPL(AVT_CONCAT(avt_result_, __LINE__), lhs, expr)
