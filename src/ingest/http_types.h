#pragma once
// The request/response vocabulary shared by the HTTP server (http_server.h), its router
// (router.h) and every handler (OTLP/HTTP receiver, query API). Handlers see only these types,
// never Boost.Beast, so they can be unit-tested without sockets.
//
// Handlers are asynchronous: a Handler receives the request and a Responder and may answer at
// once or later, from any thread (the OTLP receiver answers from the pipeline's writer thread
// after the batch is durable). The server posts the answer back to the connection's strand.
//
// Ownership: values. Responder is a cheap copyable handle to one exchange; the first Send wins
// and later ones are ignored. If every copy is destroyed without a Send, the client gets a 500
// (a handler bug must not leave a connection hanging).
// Threads: Responder::Send is thread-safe; the rest are plain values.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace avtrace::ingest {

// Header fields in arrival order; lookups are ASCII case-insensitive.
class HttpHeaders {
 public:
  // The first value of `name`, or empty.
  std::string_view Get(std::string_view name) const;
  bool Has(std::string_view name) const;
  // Replaces every field named `name` with one field.
  void Set(std::string_view name, std::string value);
  // Appends a field (repeated fields allowed).
  void Add(std::string name, std::string value);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b);

struct HttpRequest {
  std::string method;  // as sent, e.g. "POST"
  std::string target;  // as sent, e.g. "/api/v1/traces?limit=5"
  std::string path;    // target up to '?', not percent-decoded
  std::string query;   // after '?', not decoded; empty if none
  HttpHeaders headers;
  std::string body;    // de-chunked, NOT decompressed (Content-Encoding is the handler's job)
  std::string remote;  // peer "address:port"
  uint64_t received_mono_nanos = 0;  // Clock::MonotonicNanos() when the headers were read
};

// The writing end of a streamed response (Server-Sent Events). Thread-safe handle; chunks are
// written in order on the connection's strand. The stream ends when the client closes, the server
// stops, or Close() is called; then Write returns false and the OnClose callback runs (once, on
// an io thread, or at once inside OnClose if already closed).
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues `chunk`; false (chunk dropped) when the stream has ended or more than the response's
  // stream_max_pending chunks are still waiting to be written (a slow client).
  virtual bool Write(std::string chunk) = 0;
  // Ends the stream and closes the connection (asynchronously).
  virtual void Close() = 0;
  virtual bool closed() const = 0;
  virtual void OnClose(std::function<void()> callback) = 0;
};

struct HttpResponse {
  int status = 200;
  HttpHeaders headers;
  std::string body;
  // Set: a streamed response. The server sends status and headers with chunked transfer
  // encoding (body ignored), then calls `stream` once, on the connection's strand, with the
  // writer. The connection stays open until the stream ends; it is never reused.
  std::function<void(std::shared_ptr<StreamWriter>)> stream;
  size_t stream_max_pending = 64;

  static HttpResponse WithBody(int status, std::string content_type, std::string body);
  static HttpResponse Json(int status, std::string body) {
    return WithBody(status, "application/json", std::move(body));
  }
};

// The error code names used in JSON error bodies: "invalid_argument", "not_found", ...
std::string_view ErrorCodeName(StatusCode code);
// {"error":{"code":"<code>","message":"<message>"}} with the given HTTP status.
HttpResponse JsonError(int http_status, std::string_view code, std::string_view message);
// The same for a non-OK Status: HTTP status by ToHttpStatus, code by ErrorCodeName.
HttpResponse JsonError(const Status& status);

class Responder {
 public:
  using Deliver = std::function<void(HttpResponse)>;

  // `deliver` is called at most once, with the first response sent (or a 500 if none was).
  explicit Responder(Deliver deliver);

  // Sends the response; only the first call has an effect. Any thread.
  void Send(HttpResponse response) const;
  bool sent() const;

 private:
  class Exchange;
  std::shared_ptr<Exchange> exchange_;
};

// A request handler. Must not block: long work goes elsewhere and answers via the Responder.
using Handler = std::function<void(HttpRequest request, Responder responder)>;

}  // namespace avtrace::ingest
