#include "ingest/http_server.h"

#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/asio/write.hpp>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "core/log.h"
#include "metrics/registry.h"

namespace avtrace::ingest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string BoundEndpoint::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

namespace {

class Session;
class SessionStream;

// How long a connection closed with unread request bytes keeps draining them, so the client
// reads our answer instead of a reset.
constexpr std::chrono::milliseconds kLingerTime{1000};
constexpr size_t kLingerMaxBytes = 4 << 20;
// After the Stop() deadline, how long forced closes may take before the server lets go.
constexpr std::chrono::milliseconds kForceCloseWait{1000};
constexpr std::chrono::milliseconds kAcceptRetry{50};

// What the listener, its sessions and their responders share. It holds no io object (sockets,
// timers), so it may safely outlive the io_context: a Responder kept by the pipeline after
// shutdown keeps only this alive, and PostAnswer does nothing once Stop() has finished.
class ServerState {
 public:
  ServerState(HttpServerOptions options, metrics::Registry* registry, const Clock* clock);

  const HttpServerOptions& options() const { return opts_; }
  const Clock* clock() const { return clock_; }
  Router& router() { return router_; }
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  void SetStopping() { stopping_ = true; }

  // Returns false when max_connections sessions are registered already.
  bool Register(const std::shared_ptr<Session>& session);
  void Unregister(Session* session);
  size_t connections() {
    std::lock_guard lock(mu_);
    return sessions_.size();
  }
  std::vector<std::shared_ptr<Session>> Snapshot();
  // Waits until no session is left or `until`; returns how many remain.
  size_t WaitForNoSessions(std::chrono::steady_clock::time_point until);
  // Marks the server dead (no more posts to the io_context) and drops remaining sessions.
  void Detach();

  bool TryAcquireInflight();
  void ReleaseInflight();
  // The global budget for request bodies being read or waiting for their answer
  // (max_inflight_body_bytes); false when `bytes` more would exceed it.
  bool TryReserveBody(uint64_t bytes);
  void ReleaseBody(uint64_t bytes);
  // Posts an answer to the session's strand unless the server has stopped.
  void PostAnswer(const std::weak_ptr<Session>& session, HttpResponse response);
  // Posts `fn` to the session's strand; false when the server has stopped or the session is gone.
  bool Post(const std::weak_ptr<Session>& session, std::function<void(Session&)> fn);
  void RecordRequest(int status, uint64_t latency_nanos);
  void CountStreamWriteTimeout() { stream_write_timeouts_->Increment(); }
  void CountConnection(bool accepted) {
    (accepted ? connections_total_ : connections_rejected_)->Increment();
  }

 private:
  const HttpServerOptions opts_;
  const Clock* clock_;
  Router router_;

  prometheus::Gauge* connections_gauge_;
  prometheus::Gauge* inflight_gauge_;
  prometheus::Counter* connections_total_;
  prometheus::Counter* connections_rejected_;
  prometheus::Histogram* duration_;
  std::map<int, prometheus::Counter*> requests_by_code_;  // read-only after construction
  prometheus::Counter* requests_other_;

  std::atomic<bool> stopping_{false};
  std::atomic<uint32_t> inflight_{0};
  std::atomic<uint64_t> body_bytes_{0};
  prometheus::Gauge* body_bytes_gauge_;
  prometheus::Counter* body_budget_rejected_;
  prometheus::Counter* stream_write_timeouts_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions_;  // guarded by mu_
  bool alive_ = true;  // guarded by mu_: answers may still be posted to the io_context
};

// One client connection. Runs on its own strand; every member function below (except the
// constructor) runs on that strand.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<ServerState> state)
      : stream_(std::move(socket)), state_(std::move(state)) {
    // Beast sizes each socket read by the buffer's free capacity (at least 512 bytes); an
    // empty buffer would read a 25 KB OTLP body in ~50 recvmsg calls. One reserve per
    // connection makes it two.
    buffer_.reserve(kReadBufferBytes);
  }

  auto executor() { return stream_.get_executor(); }
  // For a connection refused before it started.
  tcp::socket ReleaseSocket() { return stream_.release_socket(); }

  void Start() {
    asio::dispatch(executor(), [self = shared_from_this()] { self->ReadHeader(); });
  }
  // The server is stopping: an idle keep-alive connection closes now; a busy one after its
  // current answer (Write sees stopping() and sends Connection: close).
  void OnServerStopping() {
    if (phase_ == Phase::kIdle) CloseNow();
    if (phase_ == Phase::kStreaming) EndStream();
  }
  ~Session();

  // Streamed responses (StreamWriter): `counted` chunks count against the writer's bound.
  void StreamEnqueue(std::string bytes, bool counted) {
    if (phase_ != Phase::kStreaming || ending_) return;
    out_.emplace_back(std::move(bytes), counted);
    if (!writing_) WriteNextChunk();
  }
  // The terminating chunk, then close.
  void EndStream() {
    if (phase_ != Phase::kStreaming || ending_) return;
    out_.emplace_back("0\r\n\r\n", false);
    ending_ = true;
    if (!writing_) WriteNextChunk();
  }
  void ForceClose() { CloseNow(); }
  void Answer(HttpResponse response) {
    if (phase_ != Phase::kHandling) return;  // closed while the handler worked
    ReleaseInflight();
    Write(std::move(response));
  }

 private:
  enum class Phase { kIdle, kReading, kHandling, kWriting, kStreaming, kLingering, kClosed };

  const HttpServerOptions& opts() const { return state_->options(); }

  // A server-level error in this listener's protocol (see HttpServerOptions::error_renderer).
  HttpResponse Error(int http_status, std::string_view code, std::string_view message,
                     std::string_view content_type = {}) const {
    if (!opts().error_renderer) return JsonError(http_status, code, message);
    if (content_type.empty() && parser_) {
      const auto v = parser_->get()[http::field::content_type];
      content_type = std::string_view(v.data(), v.size());
    }
    return opts().error_renderer(http_status, code, message, content_type);
  }

  void ReadHeader() {
    if (state_->stopping()) return CloseNow();
    ReleaseBody();
    phase_ = Phase::kIdle;
    parser_.emplace();
    parser_->header_limit(opts().max_header_bytes);
    parser_->body_limit(opts().max_body_bytes);
    stream_.expires_after(opts().idle_timeout);
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(const error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    started_nanos_ = state_->clock()->MonotonicNanos();
    if (ec) return OnReadError(ec);
    phase_ = Phase::kReading;
    version_ = parser_->get().version();
    if (opts().head_check) {
      const auto& m = parser_->get();
      HttpRequest head;
      head.method = std::string(m.method_string());
      head.target = std::string(m.target());
      std::string_view path = head.target;
      size_t q = path.find('?');
      head.path = std::string(path.substr(0, q));
      if (q != std::string_view::npos) head.query = std::string(path.substr(q + 1));
      for (const auto& field : m) {
        head.headers.Add(std::string(field.name_string()), std::string(field.value()));
      }
      if (auto early = opts().head_check(head)) return ReplyAndClose(std::move(*early));
    }
    if (auto length = parser_->content_length(); length && *length > opts().max_body_bytes) {
      return ReplyAndClose(Error(413, "payload_too_large",
                                     "request body of " + std::to_string(*length) +
                                         " bytes exceeds the limit of " +
                                         std::to_string(opts().max_body_bytes) + " bytes"));
    }
    // The global body budget: a known length is reserved up front (so a flood of large uploads
    // is answered 503 before any body is read), a chunked body chunk by chunk as it arrives.
    if (auto length = parser_->content_length()) {
      if (!ReserveBody(*length)) return RejectForBudget();
    } else if (parser_->chunked()) {
      parser_->on_chunk_body(on_chunk_);
    }
    if (beast::iequals(parser_->get()[http::field::expect], "100-continue")) {
      continue_.emplace(http::status::continue_, version_);
      stream_.expires_after(opts().write_timeout);
      http::async_write(stream_, *continue_,
                        [self = shared_from_this()](const error_code& ec, size_t) {
                          if (ec) return self->CloseNow();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    stream_.expires_after(opts().read_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](const error_code& ec, size_t) {
                       if (ec) return self->OnReadError(ec);
                       self->Dispatch();
                     });
  }

  void OnReadError(const error_code& ec) {
    if (phase_ == Phase::kClosed) return;
    if (ec == http::error::header_limit) {
      return ReplyAndClose(Error(431, "header_too_large",
                                     "request headers exceed the limit of " +
                                         std::to_string(opts().max_header_bytes) + " bytes"));
    }
    if (body_budget_exceeded_) return RejectForBudget();
    if (ec == http::error::body_limit) {
      return ReplyAndClose(Error(
          413, "payload_too_large",
          "request body exceeds the limit of " + std::to_string(opts().max_body_bytes) + " bytes"));
    }
    // Socket-level errors (timeouts, resets, aborts) and a peer that closed: nobody to answer.
    // Only a malformed message gets a 400.
    const auto& http_category = make_error_code(http::error::end_of_stream).category();
    if (ec.category() != http_category || ec == http::error::end_of_stream ||
        ec == http::error::partial_message) {
      return CloseNow();
    }
    ReplyAndClose(Error(400, "bad_request", "malformed HTTP request: " + ec.message()));
  }

  void Dispatch() {
    auto message = parser_->release();
    parser_.reset();
    keep_alive_ = message.keep_alive();
    HttpRequest request;
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    std::string_view path = request.target;
    // absolute-form targets ("http://host/path") as sent to proxies
    if (path.starts_with("http://") || path.starts_with("https://")) {
      size_t slash = path.find('/', path.find("//") + 2);
      path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
    }
    size_t q = path.find('?');
    request.path = std::string(path.substr(0, q));
    if (q != std::string_view::npos) request.query = std::string(path.substr(q + 1));
    for (const auto& field : message) {
      request.headers.Add(std::string(field.name_string()), std::string(field.value()));
    }
    request.body = std::move(message.body());
    error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) {
      request.remote = BoundEndpoint{remote.address().to_string(), remote.port()}.ToString();
    }
    request.received_mono_nanos = started_nanos_;

    Router::Match match = state_->router().Find(request.method, request.path);
    if (match.kind == Router::Match::Kind::kNotFound) {
      return Write(Error(404, "not_found", "no route for " + request.path,
                         request.headers.Get("content-type")));
    }
    if (match.kind == Router::Match::Kind::kMethodNotAllowed) {
      HttpResponse r = Error(405, "method_not_allowed",
                             "method " + request.method + " is not allowed on " + request.path +
                                 "; allowed: " + match.allow,
                             request.headers.Get("content-type"));
      r.headers.Set("Allow", match.allow);
      return Write(std::move(r));
    }
    if (!state_->TryAcquireInflight()) {
      HttpResponse r = Error(503, "unavailable", "too many requests in flight; retry later",
                             request.headers.Get("content-type"));
      r.headers.Set("Retry-After", "1");
      return Write(std::move(r));
    }
    holds_inflight_ = true;
    phase_ = Phase::kHandling;
    // The handler bounds its own time (the pipeline always completes); no socket deadline here.
    stream_.expires_never();
    std::weak_ptr<Session> weak = weak_from_this();
    Responder responder(
        [state = state_, weak](HttpResponse r) { state->PostAnswer(weak, std::move(r)); });
    try {
      (*match.handler)(std::move(request), responder);
    } catch (const std::exception& e) {
      responder.Send(JsonError(500, "internal", std::string("handler failed: ") + e.what()));
    } catch (...) {
      responder.Send(JsonError(500, "internal", "handler failed"));
    }
  }

  bool ReserveBody(uint64_t bytes) {
    if (!state_->TryReserveBody(bytes)) return false;
    body_reserved_ += bytes;
    return true;
  }
  void ReleaseBody() {
    if (body_reserved_ == 0) return;
    state_->ReleaseBody(body_reserved_);
    body_reserved_ = 0;
  }
  void RejectForBudget() {
    body_budget_exceeded_ = false;
    HttpResponse r = Error(503, "unavailable",
                           "the server is reading too many request bodies at once (" +
                               std::to_string(opts().max_inflight_body_bytes) +
                               " bytes); retry later");
    r.headers.Set("Retry-After", "1");
    ReplyAndClose(std::move(r));
  }

  void ReplyAndClose(HttpResponse response) {
    keep_alive_ = false;
    linger_ = true;  // the request was not read to its end
    Write(std::move(response));
  }

  void StartStream(HttpResponse r);
  void WriteNextChunk();
  void WatchForClientClose() {
    drain_.resize(4096);
    stream_.socket().async_read_some(asio::buffer(drain_),
                                     [self = shared_from_this()](const error_code& ec, size_t) {
                                       if (self->phase_ != Phase::kStreaming) return;
                                       if (ec) return self->CloseNow();
                                       self->WatchForClientClose();  // ignore what it sends
                                     });
  }

  void Write(HttpResponse r) {
    ReleaseBody();  // the request is answered; its body is no longer held for it
    if (r.stream) return StartStream(std::move(r));
    phase_ = Phase::kWriting;
    if (state_->stopping()) keep_alive_ = false;
    response_.emplace();
    response_->version(version_);
    response_->result(static_cast<unsigned>(r.status));
    for (const auto& [name, value] : r.headers.fields()) response_->insert(name, value);
    if (response_->find(http::field::server) == response_->end()) {
      response_->set(http::field::server, "avtrace");
    }
    response_->keep_alive(keep_alive_);
    response_->body() = std::move(r.body);
    response_->prepare_payload();
    // Recorded when the answer is ready rather than when it is written, so a client that has
    // read its answer also sees it counted.
    state_->RecordRequest(r.status, state_->clock()->MonotonicNanos() - started_nanos_);
    stream_.expires_after(opts().write_timeout);
    http::async_write(
        stream_, *response_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(const error_code& ec) {
    response_.reset();
    if (ec) return CloseNow();
    if (!keep_alive_) return Close();
    ReadHeader();
  }

  // Closes after an answer: if request bytes may be left unread, half-close and drain them
  // briefly first, because closing a socket with unread input sends a reset that can destroy
  // the answer before the client reads it.
  void Close() {
    if (!linger_) return CloseNow();
    phase_ = Phase::kLingering;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.expires_after(kLingerTime);
    Drain();
  }

  void Drain() {
    drain_.resize(16 * 1024);
    stream_.async_read_some(asio::buffer(drain_),
                            [self = shared_from_this()](const error_code& ec, size_t n) {
                              self->drained_ += n;
                              if (ec || self->drained_ > kLingerMaxBytes) return self->CloseNow();
                              self->Drain();
                            });
  }

  void CloseNow();
  void CloseNowImpl() {
    if (phase_ == Phase::kClosed) return;
    phase_ = Phase::kClosed;
    ReleaseInflight();
    ReleaseBody();
    if (write_timer_) write_timer_->cancel();
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    auto self = shared_from_this();  // keep this alive past Unregister
    state_->Unregister(this);
  }

  void ReleaseInflight() {
    if (!holds_inflight_) return;
    holds_inflight_ = false;
    state_->ReleaseInflight();
  }

  beast::tcp_stream stream_;
  std::shared_ptr<ServerState> state_;
  static constexpr size_t kReadBufferBytes = 32 * 1024;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::empty_body>> continue_;
  std::optional<http::response<http::string_body>> response_;
  std::string drain_;
  size_t drained_ = 0;
  Phase phase_ = Phase::kIdle;
  unsigned version_ = 11;
  bool keep_alive_ = true;
  bool linger_ = false;
  bool holds_inflight_ = false;
  uint64_t body_reserved_ = 0;         // bytes of the global body budget this request holds
  bool body_budget_exceeded_ = false;  // a chunk did not fit: answer 503, not 413
  // Chunked bodies: reserve each chunk from the budget, then keep it (Beast type-erases this
  // callback by reference, so it lives as long as the session).
  std::function<size_t(uint64_t, beast::string_view, error_code&)> on_chunk_ =
      [this](uint64_t, beast::string_view chunk, error_code& ec) -> size_t {
    if (!ReserveBody(chunk.size())) {
      body_budget_exceeded_ = true;
      ec = http::error::body_limit;
      return 0;
    }
    parser_->get().body().append(chunk.data(), chunk.size());
    return chunk.size();
  };
  uint64_t started_nanos_ = 0;
  // Streaming state.
  std::shared_ptr<SessionStream> writer_;
  std::deque<std::pair<std::string, bool>> out_;
  bool writing_ = false;
  bool ending_ = false;
  // A chunk that the client does not take within write_timeout ends the stream (a client that
  // stopped reading would otherwise hold the connection until its queue overflows).
  std::optional<asio::steady_timer> write_timer_;
  uint64_t chunk_generation_ = 0;
};

std::string ChunkFrame(std::string_view data) {
  static const char* d = "0123456789abcdef";
  std::string size;
  for (size_t n = data.size(); n; n >>= 4) size.insert(size.begin(), d[n & 15]);
  std::string out;
  out.reserve(size.size() + data.size() + 4);
  out += size;
  out += "\r\n";
  out += data;
  out += "\r\n";
  return out;
}

class SessionStream final : public StreamWriter {
 public:
  SessionStream(std::weak_ptr<Session> session, std::shared_ptr<ServerState> state,
                size_t max_pending)
      : session_(std::move(session)), state_(std::move(state)), max_pending_(max_pending) {}

  bool Write(std::string chunk) override {
    if (closed_.load() || chunk.empty()) return !closed_.load();
    if (pending_.fetch_add(1) >= max_pending_) {
      pending_.fetch_sub(1);
      return false;
    }
    std::string framed = ChunkFrame(chunk);
    if (!state_->Post(session_, [f = std::move(framed)](Session& s) mutable {
          s.StreamEnqueue(std::move(f), true);
        })) {
      pending_.fetch_sub(1);
      return false;
    }
    return true;
  }
  void Close() override {
    state_->Post(session_, [](Session& s) { s.EndStream(); });
  }
  bool closed() const override { return closed_.load(); }
  void OnClose(std::function<void()> callback) override {
    {
      std::lock_guard lock(mu_);
      if (!closed_.load()) {
        on_close_ = std::move(callback);
        return;
      }
    }
    if (callback) callback();
  }
  void MarkClosed() {
    std::function<void()> cb;
    {
      std::lock_guard lock(mu_);
      if (closed_.exchange(true)) return;
      cb = std::move(on_close_);
    }
    if (cb) cb();
  }
  void Written() { pending_.fetch_sub(1); }

 private:
  std::weak_ptr<Session> session_;
  std::shared_ptr<ServerState> state_;
  const size_t max_pending_;
  std::atomic<size_t> pending_{0};
  std::atomic<bool> closed_{false};
  std::mutex mu_;
  std::function<void()> on_close_;  // guarded by mu_
};

Session::~Session() {
  if (writer_) writer_->MarkClosed();
  ReleaseBody();
}

void Session::CloseNow() {
  const bool was_open = phase_ != Phase::kClosed;
  auto self = shared_from_this();
  CloseNowImpl();
  if (was_open && writer_) writer_->MarkClosed();
}

void Session::StartStream(HttpResponse r) {
  phase_ = Phase::kStreaming;
  keep_alive_ = false;
  const auto status = static_cast<unsigned>(r.status);
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                     std::string(http::obsolete_reason(http::int_to_status(status))) + "\r\n";
  bool has_server = false;
  for (const auto& [name, value] : r.headers.fields()) {
    if (EqualsIgnoreCase(name, "Content-Length") || EqualsIgnoreCase(name, "Transfer-Encoding") ||
        EqualsIgnoreCase(name, "Connection")) {
      continue;
    }
    has_server = has_server || EqualsIgnoreCase(name, "Server");
    head += name + ": " + value + "\r\n";
  }
  if (!has_server) head += "Server: avtrace\r\n";
  head += "Connection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n";
  state_->RecordRequest(r.status, state_->clock()->MonotonicNanos() - started_nanos_);
  stream_.expires_never();
  writer_ = std::make_shared<SessionStream>(weak_from_this(), state_, r.stream_max_pending);
  StreamEnqueue(std::move(head), false);
  WatchForClientClose();
  try {
    r.stream(writer_);
  } catch (const std::exception& e) {
    log::Warn("stream handler failed", {{"server", opts().name}, {"error", e.what()}});
    EndStream();
  }
  if (state_->stopping()) EndStream();
}

void Session::WriteNextChunk() {
  if (phase_ != Phase::kStreaming) return;
  if (out_.empty()) {
    writing_ = false;
    if (ending_) CloseNow();
    return;
  }
  writing_ = true;
  if (!write_timer_) write_timer_.emplace(stream_.get_executor());
  const uint64_t generation = ++chunk_generation_;
  write_timer_->expires_after(opts().write_timeout);
  write_timer_->async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || self->phase_ != Phase::kStreaming || self->chunk_generation_ != generation ||
        !self->writing_)
      return;
    self->state_->CountStreamWriteTimeout();
    self->CloseNow();
  });
  asio::async_write(stream_.socket(), asio::buffer(out_.front().first),
                    [self = shared_from_this()](const error_code& ec, size_t) {
                      if (self->phase_ != Phase::kStreaming) return;
                      ++self->chunk_generation_;  // this chunk's deadline no longer applies
                      self->write_timer_->cancel();
                      if (self->out_.front().second) self->writer_->Written();
                      self->out_.pop_front();
                      if (ec) return self->CloseNow();
                      self->WriteNextChunk();
                    });
}

ServerState::ServerState(HttpServerOptions options, metrics::Registry* registry, const Clock* clock)
    : opts_(std::move(options)), clock_(clock) {
  const metrics::Labels labels{{"server", opts_.name}};
  connections_gauge_ =
      &registry->Gauge("avtrace_http_connections", "Open HTTP connections", labels);
  inflight_gauge_ = &registry->Gauge("avtrace_http_requests_in_flight",
                                     "HTTP requests waiting for their handler's answer", labels);
  body_bytes_gauge_ = &registry->Gauge(
      "avtrace_http_body_bytes_in_flight",
      "Bytes of request bodies being read or waiting for their answer", labels);
  stream_write_timeouts_ = &registry->Counter(
      "avtrace_http_stream_write_timeouts_total",
      "Streamed responses (SSE) closed because the client took no data for write_timeout", labels);
  body_budget_rejected_ = &registry->Counter(
      "avtrace_http_body_budget_rejected_total",
      "Requests answered 503 because max_inflight_body_bytes was reached", labels);
  connections_total_ =
      &registry->Counter("avtrace_http_connections_total", "HTTP connections accepted", labels);
  connections_rejected_ = &registry->Counter(
      "avtrace_http_connections_rejected_total",
      "HTTP connections refused with 503 because max_connections was reached", labels);
  duration_ = &registry->Histogram("avtrace_http_request_duration_seconds",
                                   "Time from request headers read to response ready",
                                   metrics::LatencyBuckets(), labels);
  for (int code : {200, 204, 400, 401, 403, 404, 405, 408, 413, 415, 429, 431, 500, 503, 504}) {
    requests_by_code_[code] =
        &registry->Counter("avtrace_http_requests_total", "HTTP requests answered, by status",
                           {{"server", opts_.name}, {"code", std::to_string(code)}});
  }
  requests_other_ =
      &registry->Counter("avtrace_http_requests_total", "HTTP requests answered, by status",
                         {{"server", opts_.name}, {"code", "other"}});
}

bool ServerState::Register(const std::shared_ptr<Session>& session) {
  std::lock_guard lock(mu_);
  if (sessions_.size() >= opts_.max_connections) return false;
  sessions_.emplace(session.get(), session);
  connections_gauge_->Set(static_cast<double>(sessions_.size()));
  return true;
}

void ServerState::Unregister(Session* session) {
  std::shared_ptr<Session> last;  // released after the lock, never under it
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(session);
    if (it == sessions_.end()) return;
    last = std::move(it->second);
    sessions_.erase(it);
    connections_gauge_->Set(static_cast<double>(sessions_.size()));
  }
  cv_.notify_all();
}

std::vector<std::shared_ptr<Session>> ServerState::Snapshot() {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<Session>> out;
  out.reserve(sessions_.size());
  for (auto& [p, s] : sessions_) out.push_back(s);
  return out;
}

size_t ServerState::WaitForNoSessions(std::chrono::steady_clock::time_point until) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, until, [&] { return sessions_.empty(); });
  return sessions_.size();
}

void ServerState::Detach() {
  std::unordered_map<Session*, std::shared_ptr<Session>> remaining;
  {
    std::lock_guard lock(mu_);
    alive_ = false;
    remaining.swap(sessions_);
    connections_gauge_->Set(0);
  }
}

bool ServerState::TryAcquireInflight() {
  uint32_t n = inflight_.load();
  do {
    if (n >= opts_.max_inflight) return false;
  } while (!inflight_.compare_exchange_weak(n, n + 1));
  inflight_gauge_->Increment();
  return true;
}

bool ServerState::TryReserveBody(uint64_t bytes) {
  uint64_t n = body_bytes_.load();
  do {
    if (n + bytes > opts_.max_inflight_body_bytes) {
      body_budget_rejected_->Increment();
      return false;
    }
  } while (!body_bytes_.compare_exchange_weak(n, n + bytes));
  body_bytes_gauge_->Increment(static_cast<double>(bytes));
  return true;
}

void ServerState::ReleaseBody(uint64_t bytes) {
  body_bytes_.fetch_sub(bytes);
  body_bytes_gauge_->Decrement(static_cast<double>(bytes));
}

void ServerState::ReleaseInflight() {
  inflight_.fetch_sub(1);
  inflight_gauge_->Decrement();
}

void ServerState::PostAnswer(const std::weak_ptr<Session>& weak, HttpResponse response) {
  // Under mu_ so that every post happens before Detach() marks the server dead, after which the
  // caller may destroy the io_context; and so that the session is only ever pinned (and maybe
  // released last, closing its socket) while the io_context is known to exist.
  std::lock_guard lock(mu_);
  if (!alive_) return;
  std::shared_ptr<Session> session = weak.lock();
  if (!session) return;
  asio::post(session->executor(),
             [session, r = std::move(response)]() mutable { session->Answer(std::move(r)); });
}

bool ServerState::Post(const std::weak_ptr<Session>& weak, std::function<void(Session&)> fn) {
  std::lock_guard lock(mu_);
  if (!alive_) return false;
  std::shared_ptr<Session> session = weak.lock();
  if (!session) return false;
  asio::post(session->executor(), [session, fn = std::move(fn)] { fn(*session); });
  return true;
}

void ServerState::RecordRequest(int status, uint64_t latency_nanos) {
  auto it = requests_by_code_.find(status);
  (it == requests_by_code_.end() ? requests_other_ : it->second)->Increment();
  duration_->Observe(static_cast<double>(latency_nanos) / 1e9);
}

// The accepting socket. Shared with its pending accept handler, so a handler that completes
// after the HttpServer is gone still finds it (and sees it closed).
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& ioc, std::shared_ptr<ServerState> state)
      : ioc_(ioc),
        state_(std::move(state)),
        acceptor_(asio::make_strand(ioc)),
        retry_(acceptor_.get_executor()) {}

  Status Listen();
  BoundEndpoint endpoint() const { return endpoint_; }
  // Closes the acceptor on its strand, waiting at most `wait` for the io_context to run it.
  void Close(std::chrono::milliseconds wait);

 private:
  void DoAccept();
  void OnAccept(const error_code& ec, tcp::socket socket);
  void RejectBusy(tcp::socket socket);

  asio::io_context& ioc_;
  std::shared_ptr<ServerState> state_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
  BoundEndpoint endpoint_;
};

Status Listener::Listen() {
  const HttpServerOptions& opts = state_->options();
  error_code ec;
  asio::ip::address address = asio::ip::make_address(opts.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc_);
    auto results = resolver.resolve(opts.host, "", ec);
    if (ec || results.empty()) {
      return InvalidArgument("cannot resolve listen host '" + opts.host +
                             "': " + (ec ? ec.message() : std::string("no address")));
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(address, opts.port);
  const std::string where = BoundEndpoint{address.to_string(), opts.port}.ToString();
  auto fail = [&](const char* what) {
    error_code ignored;
    acceptor_.close(ignored);
    return Unavailable(std::string("cannot listen on ") + where + " (" + opts.name + "): " + what +
                       ": " + ec.message());
  };
  if (acceptor_.open(ep.protocol(), ec)) return fail("open");
  if (acceptor_.set_option(asio::socket_base::reuse_address(true), ec)) return fail("option");
  if (acceptor_.bind(ep, ec)) return fail("bind");
  if (acceptor_.listen(asio::socket_base::max_listen_connections, ec)) return fail("listen");
  tcp::endpoint local = acceptor_.local_endpoint(ec);
  if (ec) return fail("local endpoint");
  endpoint_ = BoundEndpoint{local.address().to_string(), local.port()};
  asio::post(acceptor_.get_executor(), [self = shared_from_this()] { self->DoAccept(); });
  log::Info("HTTP server listening", {{"server", opts.name}, {"address", endpoint_.ToString()}});
  return Status::Ok();
}

void Listener::Close(std::chrono::milliseconds wait) {
  auto closed = std::make_shared<std::promise<void>>();
  auto future = closed->get_future();
  asio::post(acceptor_.get_executor(), [self = shared_from_this(), closed] {
    error_code ec;
    self->acceptor_.close(ec);
    self->retry_.cancel();
    closed->set_value();
  });
  // If the io_context is not running the post never runs, and then nothing else touches the
  // acceptor either, so it is closed here.
  if (future.wait_for(wait) != std::future_status::ready) {
    error_code ec;
    acceptor_.close(ec);
  }
}

void Listener::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_),
                         [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                           self->OnAccept(ec, std::move(socket));
                         });
}

void Listener::OnAccept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    // Out of descriptors or buffers: back off briefly rather than spin on the failing accept.
    log::Warn("HTTP accept failed", {{"server", state_->options().name}, {"error", ec.message()}});
    retry_.expires_after(kAcceptRetry);
    retry_.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e) self->DoAccept();
    });
    return;
  }
  if (state_->stopping()) {
    error_code ignored;
    socket.close(ignored);
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), state_);
  if (state_->Register(session)) {
    state_->CountConnection(true);
    session->Start();
  } else {
    RejectBusy(session->ReleaseSocket());
  }
  DoAccept();
}

void Listener::RejectBusy(tcp::socket socket) {
  state_->CountConnection(false);
  static constexpr std::string_view kBusy =
      "HTTP/1.1 503 Service Unavailable\r\n"
      "Content-Type: application/json\r\n"
      "Retry-After: 1\r\n"
      "Connection: close\r\n"
      "Content-Length: 78\r\n"
      "\r\n"
      "{\"error\":{\"code\":\"unavailable\",\"message\":\"too many connections; retry later\"}}";
  // A fresh socket's send buffer is empty, so one non-blocking write normally takes it all;
  // if it does not, the client just sees the close.
  error_code ec;
  socket.non_blocking(true, ec);
  socket.write_some(asio::buffer(kBusy.data(), kBusy.size()), ec);
  socket.shutdown(tcp::socket::shutdown_send, ec);
  socket.close(ec);
}

}  // namespace

class HttpServer::Core {
 public:
  Core(asio::io_context& ioc, HttpServerOptions options, metrics::Registry* registry,
       const Clock* clock)
      : ioc(ioc), state(std::make_shared<ServerState>(std::move(options), registry, clock)) {}

  void Stop(std::chrono::milliseconds deadline);

  asio::io_context& ioc;
  std::shared_ptr<ServerState> state;
  std::shared_ptr<Listener> listener;  // set by Listen()
  std::mutex mu;
  bool stopped = false;
};

void HttpServer::Core::Stop(std::chrono::milliseconds deadline) {
  {
    std::lock_guard lock(mu);
    if (stopped) return;
    stopped = true;
  }
  const auto until = std::chrono::steady_clock::now() + deadline;
  state->SetStopping();
  if (listener) listener->Close(std::max(deadline, kForceCloseWait));
  for (auto& s : state->Snapshot()) {
    asio::post(s->executor(), [s] { s->OnServerStopping(); });
  }
  size_t forced = state->WaitForNoSessions(until);
  if (forced > 0) {
    for (auto& s : state->Snapshot()) {
      asio::post(s->executor(), [s] { s->ForceClose(); });
    }
    state->WaitForNoSessions(std::chrono::steady_clock::now() + kForceCloseWait);
  }
  state->Detach();
  if (listener) {
    log::Info("HTTP server stopped",
              {{"server", state->options().name}, {"forced_closes", std::to_string(forced)}});
  }
}

HttpServer::HttpServer(asio::io_context& ioc, HttpServerOptions options,
                       metrics::Registry* registry, const Clock* clock)
    : core_(std::make_unique<Core>(ioc, std::move(options), registry, clock)) {}

HttpServer::~HttpServer() { core_->Stop(std::chrono::milliseconds(0)); }

Status HttpServer::Listen() {
  if (core_->listener) return FailedPrecondition("HttpServer::Listen called twice");
  auto listener = std::make_shared<Listener>(core_->ioc, core_->state);
  RETURN_IF_ERROR(listener->Listen());
  core_->listener = std::move(listener);
  return Status::Ok();
}

BoundEndpoint HttpServer::endpoint() const {
  return core_->listener ? core_->listener->endpoint() : BoundEndpoint{};
}

Router& HttpServer::router() { return core_->state->router(); }
void HttpServer::Stop(std::chrono::milliseconds deadline) { core_->Stop(deadline); }
size_t HttpServer::connections() const { return core_->state->connections(); }

}  // namespace avtrace::ingest
