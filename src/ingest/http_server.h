#pragma once
// HttpServer: a small asynchronous HTTP/1.1 server (Boost.Beast) on a caller-owned
// asio::io_context. Both front doors use it: the OTLP/HTTP receiver (otlp_http.h) and the query
// API (api/).
//
// What it does: listens on host:port (port 0 picks a free port; endpoint() tells which), reads
// requests with keep-alive, accepts chunked bodies without Content-Length and answers
// "Expect: 100-continue", bounds header and body sizes (431 / 413, then closes), times out idle
// and slow connections, routes by method and path (router.h; 405 with Allow, 404 as JSON), and
// sheds load: beyond max_connections a new connection gets a canned 503 and is closed; beyond
// max_inflight requests waiting for a handler's answer a request gets 503 with Retry-After, and
// so does a request whose body does not fit the global body budget (max_inflight_body_bytes).
// Requests on one connection are handled one at a time (no pipelining), each connection on its
// own strand, so a handler never runs twice concurrently for one connection.
//
// Ownership: the caller owns the io_context and runs it on N threads; the HttpServer must be
// destroyed (after Stop) before the io_context. `registry` and `clock` must outlive it.
// Threads: route registration before Listen(); Listen/Stop from a non-io thread; handlers run
// on io threads and may answer from any thread (Responder).
// Lifecycle: construct -> add routes -> Listen() -> ... -> Stop(deadline) -> destroy.
// Stop() stops accepting, closes idle keep-alive connections, lets requests in flight finish
// (their answers go out with "Connection: close") until `deadline`, then closes what remains.
// After Stop() a late answer (e.g. a pipeline completing after shutdown) is dropped safely.
// Stop() is safe to call twice; the destructor calls it with a zero deadline.
// Streamed responses (HttpResponse::stream, e.g. SSE): status and headers go out with chunked
// encoding, then chunks from the StreamWriter (bounded queue, written on the strand; a chunk the
// client does not take within write_timeout closes the stream); the connection ends when the
// client closes or on Stop(), which sends the terminating chunk and closes at once.
// Errors: Listen() returns Unavailable when the address cannot be bound, InvalidArgument for a
// host that is not an address or resolvable name. Network errors after startup are counted and
// close the connection concerned; they never reach the caller.
//
// Self-telemetry (label server=<options.name>): avtrace_http_connections (gauge),
// avtrace_http_connections_total, avtrace_http_connections_rejected_total,
// avtrace_http_requests_total{code}, avtrace_http_request_duration_seconds,
// avtrace_http_requests_in_flight (gauge).

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/status.h"
#include "ingest/http_types.h"
#include "ingest/router.h"

namespace avtrace::metrics {
class Registry;
}

namespace avtrace::ingest {

struct HttpServerOptions {
  std::string name = "http";  // metrics label and log field, e.g. "otlp_http", "api"
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  uint64_t max_body_bytes = 64ull << 20;  // as received (before decompression)
  uint32_t max_header_bytes = 32 * 1024;
  uint32_t max_connections = 1024;
  uint32_t max_inflight = 512;  // requests dispatched to handlers and not yet answered
  // Bytes of request bodies being read or waiting for their answer, across all connections:
  // a Content-Length is reserved before the body is read, a chunked body as its chunks arrive;
  // beyond the budget the request gets 503 + Retry-After: 1 and the connection is closed.
  // Bounds memory at far less than max_connections x max_body_bytes.
  uint64_t max_inflight_body_bytes = 256ull << 20;
  std::chrono::milliseconds idle_timeout{60'000};  // waiting for (the headers of) a request
  std::chrono::milliseconds read_timeout{30'000};  // reading one request body
  std::chrono::milliseconds write_timeout{30'000};
  // Renders the errors the server itself answers (400, 404, 405, 413, 431, 503) in this
  // listener's protocol; `request_content_type` is the request's Content-Type when its headers
  // were read, else empty. Unset: JsonError. The OTLP listener answers google.rpc.Status in the
  // request's encoding, as the OTLP/HTTP spec requires for every failure.
  std::function<HttpResponse(int http_status, std::string_view code, std::string_view message,
                             std::string_view request_content_type)>
      error_renderer;
  // Optional: runs on the io thread after a request's headers are read and BEFORE its body is
  // (and before the Content-Length limit check), with `head` carrying method, target, path,
  // query, headers and remote but no body. A response returned is sent at once and the
  // connection closed without reading the body (e.g. the player API's 401 for a beacon without
  // credentials, which m-trace answers even for an oversized body).
  std::function<std::optional<HttpResponse>(const HttpRequest& head)> head_check;
};

struct BoundEndpoint {
  std::string host;  // the bound address, e.g. "127.0.0.1" or "::1"
  uint16_t port = 0;
  // "127.0.0.1:4318" or "[::1]:4318".
  std::string ToString() const;
};

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& ioc, HttpServerOptions options, metrics::Registry* registry,
             const Clock* clock);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The routing table; add routes before Listen().
  Router& router();

  // Binds, listens and starts accepting on the io_context.
  Status Listen();
  // Valid after a successful Listen().
  BoundEndpoint endpoint() const;

  void Stop(std::chrono::milliseconds deadline);

  // Connections currently open (for tests and /api/v1/status).
  size_t connections() const;

 private:
  class Core;
  std::unique_ptr<Core> core_;
};

}  // namespace avtrace::ingest
