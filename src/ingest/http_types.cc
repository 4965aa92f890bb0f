#include "ingest/http_types.h"

#include "ingest/json_writer.h"

namespace avtrace::ingest {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
    if (x != y) return false;
  }
  return true;
}

std::string_view HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : fields_) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

bool HttpHeaders::Has(std::string_view name) const {
  for (const auto& f : fields_) {
    if (EqualsIgnoreCase(f.first, name)) return true;
  }
  return false;
}

void HttpHeaders::Set(std::string_view name, std::string value) {
  std::erase_if(fields_, [&](const auto& f) { return EqualsIgnoreCase(f.first, name); });
  fields_.emplace_back(std::string(name), std::move(value));
}

void HttpHeaders::Add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

HttpResponse HttpResponse::WithBody(int status, std::string content_type, std::string body) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(body);
  return r;
}

std::string_view ErrorCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kFailedPrecondition:
      return "failed_precondition";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kDeadlineExceeded:
      return "deadline_exceeded";
    case StatusCode::kPayloadTooLarge:
      return "payload_too_large";
    case StatusCode::kUnsupportedMediaType:
      return "unsupported_media_type";
    case StatusCode::kMethodNotAllowed:
      return "method_not_allowed";
    case StatusCode::kUnauthenticated:
      return "unauthenticated";
    case StatusCode::kPermissionDenied:
      return "permission_denied";
    case StatusCode::kInternal:
      return "internal";
  }
  return "internal";
}

HttpResponse JsonError(int http_status, std::string_view code, std::string_view message) {
  std::string body;
  JsonWriter w(&body);
  w.BeginObject();
  w.Key("error");
  w.BeginObject();
  w.Field("code", code);
  w.Field("message", message);
  w.EndObject();
  w.EndObject();
  return HttpResponse::Json(http_status, std::move(body));
}

HttpResponse JsonError(const Status& status) {
  return JsonError(ToHttpStatus(status.code()), ErrorCodeName(status.code()), status.message());
}

class Responder::Exchange {
 public:
  explicit Exchange(Deliver deliver) : deliver_(std::move(deliver)) {}
  ~Exchange() {
    if (!sent_.exchange(true)) {
      deliver_(JsonError(500, "internal", "the request handler did not answer"));
    }
  }
  void Send(HttpResponse r) {
    if (sent_.exchange(true)) return;
    deliver_(std::move(r));
  }
  bool sent() const { return sent_.load(); }

 private:
  Deliver deliver_;
  std::atomic<bool> sent_{false};
};

Responder::Responder(Deliver deliver) : exchange_(std::make_shared<Exchange>(std::move(deliver))) {}

void Responder::Send(HttpResponse response) const { exchange_->Send(std::move(response)); }

bool Responder::sent() const { return exchange_->sent(); }

}  // namespace avtrace::ingest
