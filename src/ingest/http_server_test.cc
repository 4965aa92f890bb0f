#include "ingest/http_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "ingest/json_writer.h"
#include "ingest/router.h"
#include "metrics/registry.h"

namespace avtrace::ingest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Response = http::response<http::string_body>;

// ---------------------------------------------------------------------------------------------
// Router and JsonWriter: no sockets.

Handler Tag(std::string tag) {
  return
      [tag](HttpRequest, Responder r) { r.Send(HttpResponse::WithBody(200, "text/plain", tag)); };
}

std::string Call(const Router::Match& m) {
  std::string got;
  HttpRequest req;
  (*m.handler)(std::move(req), Responder([&](HttpResponse r) { got = r.body; }));
  return got;
}

TEST(RouterTest, ExactBeatsPrefixAndLongestPrefixWins) {
  Router router;
  router.Prefix("GET", "/api/", Tag("api"));
  router.Prefix("GET", "/api/v1/traces/", Tag("trace"));
  router.Exact("GET", "/api/v1/traces/search", Tag("exact"));
  EXPECT_EQ(Call(router.Find("GET", "/api/v1/traces/abc")), "trace");
  EXPECT_EQ(Call(router.Find("GET", "/api/v1/traces/search")), "exact");
  EXPECT_EQ(Call(router.Find("GET", "/api/other")), "api");
  EXPECT_EQ(router.Find("GET", "/nope").kind, Router::Match::Kind::kNotFound);
}

TEST(RouterTest, WrongMethodListsAllowed) {
  Router router;
  router.Exact("POST", "/v1/traces", Tag("post"));
  router.Exact("OPTIONS", "/v1/traces", Tag("options"));
  auto m = router.Find("GET", "/v1/traces");
  EXPECT_EQ(m.kind, Router::Match::Kind::kMethodNotAllowed);
  EXPECT_EQ(m.allow, "OPTIONS, POST");
  EXPECT_EQ(router.Find("post", "/v1/traces").kind, Router::Match::Kind::kMethodNotAllowed);
}

TEST(JsonWriterTest, NestedDocument) {
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Field("s", "a\"b\\c\n\x01");
  w.FieldInt("i", -3);
  w.Key("big");
  w.UintString(18446744073709551615ull);
  w.Key("arr");
  w.BeginArray();
  w.Double(1.5);
  w.Double(0.1);
  w.Double(std::numeric_limits<double>::quiet_NaN());
  w.Bool(true);
  w.Null();
  w.BeginObject();
  w.EndObject();
  w.EndArray();
  w.Key("raw");
  w.Raw("{\"x\":1}");
  w.EndObject();
  EXPECT_EQ(out,
            "{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"i\":-3,\"big\":\"18446744073709551615\","
            "\"arr\":[1.5,0.1,null,true,null,{}],\"raw\":{\"x\":1}}");
}

TEST(JsonWriterTest, InvalidUtf8IsReplaced) {
  std::string out;
  AppendJsonString(&out, "ok \xc3\xa9 \xff \xed\xa0\x80 \xf0\x9f\x98\x80 \xe2\x82");
  EXPECT_EQ(out, "\"ok \xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd \xf0\x9f\x98\x80 \\ufffd\\ufffd\"");
}

TEST(JsonErrorTest, Shape) {
  HttpResponse r = JsonError(InvalidArgument("parameter 'limit': expected an integer"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.headers.Get("content-type"), "application/json");
  EXPECT_EQ(
      r.body,
      "{\"error\":{\"code\":\"invalid_argument\",\"message\":\"parameter 'limit': expected an "
      "integer\"}}");
}

TEST(ResponderTest, FirstSendWinsAndDroppedResponderAnswers500) {
  std::vector<int> got;
  {
    Responder r([&](HttpResponse resp) { got.push_back(resp.status); });
    Responder copy = r;
    copy.Send(HttpResponse::Json(201, "{}"));
    r.Send(HttpResponse::Json(202, "{}"));
  }
  {
    Responder dropped([&](HttpResponse resp) { got.push_back(resp.status); });
  }
  EXPECT_EQ(got, (std::vector<int>{201, 500}));
}

// ---------------------------------------------------------------------------------------------
// The server over real sockets on port 0.

class Harness {
 public:
  explicit Harness(HttpServerOptions options = {}) {
    options.name = "t";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(ioc_, options, &registry_, &clock_);
  }
  ~Harness() {
    server_->Stop(std::chrono::milliseconds(0));
    server_.reset();
    guard_.reset();
    ioc_.stop();
    for (auto& t : threads_) t.join();
  }
  Router& router() { return server_->router(); }
  void Start() {
    ASSERT_TRUE(server_->Listen().ok());
    for (int i = 0; i < 2; ++i) threads_.emplace_back([this] { ioc_.run(); });
  }
  uint16_t port() const { return server_->endpoint().port; }
  HttpServer& server() { return *server_; }
  metrics::Registry& registry() { return registry_; }

 private:
  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_{ioc_.get_executor()};
  metrics::Registry registry_;
  FakeClock clock_;
  std::unique_ptr<HttpServer> server_;
  std::vector<std::thread> threads_;
};

// A blocking client with a receive timeout, so a broken server fails the test instead of
// hanging it.
class Client {
 public:
  explicit Client(uint16_t port) : socket_(ioc_) {
    boost::system::error_code ec;
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
    EXPECT_FALSE(ec) << ec.message();
    timeval tv{5, 0};
    setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  void WriteRaw(std::string_view raw) {
    boost::system::error_code ec;
    asio::write(socket_, asio::buffer(raw.data(), raw.size()), ec);
  }
  Response Read(boost::system::error_code* ec_out = nullptr) {
    Response res;
    boost::system::error_code ec;
    http::read(socket_, buffer_, res, ec);
    if (ec_out)
      *ec_out = ec;
    else
      EXPECT_FALSE(ec) << ec.message();
    return res;
  }
  Response Request(http::verb verb, std::string target, std::string body = "",
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::request<http::string_body> req{verb, target, 11};
    req.set(http::field::host, "localhost");
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = std::move(body);
    req.prepare_payload();
    boost::system::error_code ec;
    http::write(socket_, req, ec);
    EXPECT_FALSE(ec) << ec.message();
    return Read();
  }
  // True if the server closed the connection (EOF) before the receive timeout.
  bool Closed() {
    char c;
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(&c, 1), ec);
    return n == 0 && (ec == asio::error::eof || ec == asio::error::connection_reset);
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_;
  beast::flat_buffer buffer_;
};

// Handlers that park their responders so the test can answer later, from its own thread.
class Parked {
 public:
  Handler handler() {
    return [this](HttpRequest req, Responder r) {
      std::lock_guard lock(mu_);
      parked_.emplace_back(std::move(req), std::move(r));
      cv_.notify_all();
    };
  }
  std::pair<HttpRequest, Responder> Wait() {
    std::unique_lock lock(mu_);
    EXPECT_TRUE(cv_.wait_for(lock, std::chrono::seconds(5), [&] { return !parked_.empty(); }));
    auto out = std::move(parked_.front());
    parked_.pop_front();
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<HttpRequest, Responder>> parked_;
};

Handler Echo() {
  return [](HttpRequest req, Responder r) {
    HttpResponse resp = HttpResponse::WithBody(200, "text/plain", req.body);
    resp.headers.Set("X-Path", req.path);
    resp.headers.Set("X-Query", req.query);
    r.Send(std::move(resp));
  };
}

TEST(HttpServerTest, RoutesKeepAliveAndErrors) {
  Harness h;
  h.router().Exact("POST", "/echo", Echo());
  h.router().Prefix("GET", "/items/", Echo());
  h.Start();
  Client c(h.port());
  Response r = c.Request(http::verb::post, "/echo?a=1", "hello");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "hello");
  EXPECT_EQ(r["X-Query"], "a=1");
  EXPECT_EQ(r[http::field::server], "avtrace");
  r = c.Request(http::verb::get, "/items/42");
  EXPECT_EQ(r["X-Path"], "/items/42");
  r = c.Request(http::verb::get, "/nothing");
  EXPECT_EQ(r.result_int(), 404);
  EXPECT_EQ(r[http::field::content_type], "application/json");
  EXPECT_NE(r.body().find("\"not_found\""), std::string::npos);
  r = c.Request(http::verb::get, "/echo");
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[http::field::allow], "POST");
  EXPECT_TRUE(r.keep_alive());
  r = c.Request(http::verb::post, "/echo", "still the same connection");
  EXPECT_EQ(r.body(), "still the same connection");
  EXPECT_EQ(h.server().connections(), 1u);
  std::string metrics = h.registry().Serialize();
  EXPECT_NE(metrics.find("avtrace_http_requests_total{code=\"200\",server=\"t\"} 3"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("avtrace_http_connections_total{server=\"t\"} 1"), std::string::npos);
}

TEST(HttpServerTest, ChunkedBodyWithoutContentLength) {
  Harness h;
  h.router().Exact("POST", "/echo", Echo());
  h.Start();
  Client c(h.port());
  c.WriteRaw(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "hello world");
}

TEST(HttpServerTest, ExpectContinue) {
  Harness h;
  h.router().Exact("POST", "/echo", Echo());
  h.Start();
  Client c(h.port());
  c.WriteRaw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
  Response interim = c.Read();
  EXPECT_EQ(interim.result_int(), 100);
  c.WriteRaw("body");
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_EQ(r.body(), "body");
}

TEST(HttpServerTest, AnswerFromAnotherThreadLater) {
  Harness h;
  Parked parked;
  h.router().Exact("POST", "/slow", parked.handler());
  h.Start();
  Client c(h.port());
  std::thread answerer([&] {
    auto [req, responder] = parked.Wait();
    responder.Send(HttpResponse::WithBody(202, "text/plain", "later:" + req.body));
  });
  Response r = c.Request(http::verb::post, "/slow", "x");
  answerer.join();
  EXPECT_EQ(r.result_int(), 202);
  EXPECT_EQ(r.body(), "later:x");
}

TEST(HttpServerTest, BodyLimitContentLengthAndChunked) {
  HttpServerOptions o;
  o.max_body_bytes = 10;
  Harness h(o);
  h.router().Exact("POST", "/echo", Echo());
  h.Start();
  {
    Client c(h.port());
    Response r = c.Request(http::verb::post, "/echo", std::string(11, 'x'));
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_FALSE(r.keep_alive());
    EXPECT_TRUE(c.Closed());
  }
  {
    Client c(h.port());
    c.WriteRaw(
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n");
    Response r = c.Read();
    EXPECT_EQ(r.result_int(), 413);
    EXPECT_TRUE(c.Closed());
  }
  {
    Client c(h.port());
    Response r = c.Request(http::verb::post, "/echo", std::string(10, 'x'));
    EXPECT_EQ(r.result_int(), 200);
  }
}

TEST(HttpServerTest, HeaderLimitIs431) {
  HttpServerOptions o;
  o.max_header_bytes = 1024;
  Harness h(o);
  h.router().Exact("GET", "/", Echo());
  h.Start();
  Client c(h.port());
  c.WriteRaw("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4000, 'a') + "\r\n\r\n");
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 431);
}

TEST(HttpServerTest, MalformedRequestIs400) {
  Harness h;
  h.Start();
  Client c(h.port());
  c.WriteRaw("GET / HTTP/1.1\r\nHost x\r\n\r\n");
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 400);
  EXPECT_TRUE(c.Closed());
}

TEST(HttpServerTest, HandlerThatThrowsOrForgetsAnswers500) {
  Harness h;
  h.router().Exact("GET", "/throw",
                   [](HttpRequest, Responder) { throw std::runtime_error("boom"); });
  h.router().Exact("GET", "/forget", [](HttpRequest, Responder) {});
  h.Start();
  Client c(h.port());
  Response r = c.Request(http::verb::get, "/throw");
  EXPECT_EQ(r.result_int(), 500);
  EXPECT_NE(r.body().find("boom"), std::string::npos);
  r = c.Request(http::verb::get, "/forget");
  EXPECT_EQ(r.result_int(), 500);
}

TEST(HttpServerTest, MaxConnectionsRefusesWith503) {
  HttpServerOptions o;
  o.max_connections = 2;
  Harness h(o);
  h.router().Exact("GET", "/", Echo());
  h.Start();
  Client a(h.port()), b(h.port());
  EXPECT_EQ(a.Request(http::verb::get, "/").result_int(), 200);
  EXPECT_EQ(b.Request(http::verb::get, "/").result_int(), 200);
  Client c(h.port());
  Response r = c.Read();
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r[http::field::retry_after], "1");
  EXPECT_NE(r.body().find("too many connections"), std::string::npos);
  EXPECT_EQ(a.Request(http::verb::get, "/").result_int(), 200);
}

TEST(HttpServerTest, MaxInflightRefusesWith503) {
  HttpServerOptions o;
  o.max_inflight = 1;
  Harness h(o);
  Parked parked;
  h.router().Exact("GET", "/slow", parked.handler());
  h.Start();
  Client a(h.port()), b(h.port());
  a.WriteRaw("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  auto [req, responder] = parked.Wait();
  Response r = b.Request(http::verb::get, "/slow");
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r[http::field::retry_after], "1");
  responder.Send(HttpResponse::Json(200, "{}"));
  EXPECT_EQ(a.Read().result_int(), 200);
  // The slot is free again.
  std::thread answerer([&] { parked.Wait().second.Send(HttpResponse::Json(200, "{}")); });
  EXPECT_EQ(b.Request(http::verb::get, "/slow").result_int(), 200);
  answerer.join();
}

// The global body budget: bodies held by requests waiting for their answer count against it; a
// request that does not fit gets 503 + Retry-After before its body is read (Content-Length) or
// as soon as a chunk does not fit (chunked); answering frees the budget again.
TEST(HttpServerTest, BodyBudgetRefusesWith503AndRecovers) {
  HttpServerOptions o;
  o.max_inflight_body_bytes = 100;
  Harness h(o);
  Parked parked;
  h.router().Exact("POST", "/slow", parked.handler());
  h.Start();
  Client a(h.port());
  a.WriteRaw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 60\r\n\r\n" + std::string(60, 'a'));
  auto [req, responder] = parked.Wait();
  EXPECT_EQ(req.body.size(), 60u);
  {
    Client b(h.port());
    b.WriteRaw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n");  // no body sent
    Response r = b.Read();
    EXPECT_EQ(r.result_int(), 503);
    EXPECT_EQ(r[http::field::retry_after], "1");
    EXPECT_NE(r.body().find("too many request bodies"), std::string::npos) << r.body();
    EXPECT_TRUE(b.Closed());
  }
  {
    Client b(h.port());  // chunked: the first chunks fit, the third does not
    b.WriteRaw(
        "POST /slow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n0123456789\r\na\r\n0123456789\r\n1e\r\n" + std::string(30, 'z') + "\r\n0\r\n\r\n");
    Response r = b.Read();
    EXPECT_EQ(r.result_int(), 503);
    EXPECT_TRUE(b.Closed());
  }
  std::string metrics = h.registry().Serialize();
  EXPECT_NE(metrics.find("avtrace_http_body_budget_rejected_total{server=\"t\"} 2"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("avtrace_http_body_bytes_in_flight{server=\"t\"} 60"), std::string::npos);
  responder.Send(HttpResponse::Json(200, "{}"));
  EXPECT_EQ(a.Read().result_int(), 200);
  // Freed: a chunked body of 90 bytes fits now and arrives whole.
  std::thread answerer([&] {
    auto [r2, resp2] = parked.Wait();
    resp2.Send(HttpResponse::WithBody(200, "text/plain", std::to_string(r2.body.size())));
  });
  Client c(h.port());
  c.WriteRaw("POST /slow HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "2d\r\n" + std::string(45, 'q') + "\r\n2d\r\n" + std::string(45, 'q') + "\r\n0\r\n\r\n");
  Response ok = c.Read();
  EXPECT_EQ(ok.result_int(), 200);
  EXPECT_EQ(ok.body(), "90");
  answerer.join();
  EXPECT_NE(h.registry().Serialize().find("avtrace_http_body_bytes_in_flight{server=\"t\"} 0"),
            std::string::npos);
}

// A streamed response whose client stops reading: once a chunk waits longer than write_timeout
// the stream is closed (and counted), instead of holding the connection indefinitely.
TEST(HttpServerTest, StreamClosedWhenTheClientStopsReading) {
  HttpServerOptions o;
  o.write_timeout = std::chrono::milliseconds(200);
  Harness h(o);
  std::shared_ptr<StreamWriter> writer;
  std::atomic<bool> closed{false};
  h.router().Exact("GET", "/stream", [&](HttpRequest, Responder r) {
    HttpResponse resp = HttpResponse::WithBody(200, "text/event-stream", "");
    resp.stream_max_pending = 1000;
    resp.stream = [&](std::shared_ptr<StreamWriter> w) {
      writer = w;
      w->OnClose([&] { closed = true; });
      for (int i = 0; i < 100; ++i) w->Write(std::string(256 * 1024, 'x'));  // 25 MiB
    };
    r.Send(std::move(resp));
  });
  h.Start();
  Client c(h.port());
  c.WriteRaw("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");  // and never read
  for (int i = 0; i < 300 && !closed; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(closed.load());
  EXPECT_NE(h.registry().Serialize().find(
                "avtrace_http_stream_write_timeouts_total{server=\"t\"} 1"),
            std::string::npos);
}

TEST(HttpServerTest, IdleTimeoutClosesConnection) {
  HttpServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(100);
  Harness h(o);
  h.router().Exact("GET", "/", Echo());
  h.Start();
  Client c(h.port());
  EXPECT_EQ(c.Request(http::verb::get, "/").result_int(), 200);
  EXPECT_TRUE(c.Closed());
}

TEST(HttpServerTest, GracefulStopFinishesInFlightAndClosesIdle) {
  Harness h;
  Parked parked;
  h.router().Exact("POST", "/slow", parked.handler());
  h.router().Exact("GET", "/", Echo());
  h.Start();
  Client idle(h.port());
  EXPECT_EQ(idle.Request(http::verb::get, "/").result_int(), 200);
  Client busy(h.port());
  busy.WriteRaw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx");
  auto [req, responder] = parked.Wait();
  std::thread stopper([&] { h.server().Stop(std::chrono::seconds(10)); });
  EXPECT_TRUE(idle.Closed());
  responder.Send(HttpResponse::Json(200, "{\"done\":true}"));
  Response r = busy.Read();
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_FALSE(r.keep_alive());
  stopper.join();
  EXPECT_EQ(h.server().connections(), 0u);
  // New connections are refused once stopped.
  boost::system::error_code ec;
  asio::io_context ioc;
  tcp::socket s(ioc);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), h.port()), ec);
  EXPECT_TRUE(ec);
}

TEST(HttpServerTest, StopDeadlineClosesStuckRequestsAndLateAnswersAreSafe) {
  Harness h;
  Parked parked;
  h.router().Exact("GET", "/stuck", parked.handler());
  h.Start();
  Client c(h.port());
  c.WriteRaw("GET /stuck HTTP/1.1\r\nHost: x\r\n\r\n");
  auto [req, responder] = parked.Wait();
  h.server().Stop(std::chrono::milliseconds(50));
  EXPECT_EQ(h.server().connections(), 0u);
  EXPECT_TRUE(c.Closed());
  responder.Send(HttpResponse::Json(200, "{}"));  // after Stop: dropped, no crash
}

TEST(HttpServerTest, ListenOnBusyPortIsUnavailable) {
  Harness a;
  a.Start();
  asio::io_context ioc;
  metrics::Registry registry;
  FakeClock clock;
  HttpServerOptions o;
  o.port = a.port();
  HttpServer b(ioc, o, &registry, &clock);
  Status s = b.Listen();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(a.port())), std::string::npos) << s.message();
}

}  // namespace
}  // namespace avtrace::ingest
