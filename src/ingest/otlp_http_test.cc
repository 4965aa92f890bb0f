#include "ingest/otlp_http.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <zlib.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "ingest/http_server.h"
#include "metrics/registry.h"
#include "otlp/wire.h"

namespace avtrace::ingest {
namespace {

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(AVTRACE_SOURCE_DIR) + "/test/data/otlp/" + name, std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string Gzip(std::string_view in) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

// A sink that records submissions and completes them when the test says so.
class FakeSink : public BatchSink {
 public:
  Status Submit(otlp::Batch batch, otlp::Signal signal, Done done) override {
    std::lock_guard lock(mu);
    if (!refuse.ok()) return refuse;
    submitted.push_back({std::move(batch), signal, std::move(done)});
    cv.notify_all();
    return Status::Ok();
  }
  bool WaitForSubmission() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return !submitted.empty(); });
  }
  uint32_t RetryAfterSeconds() const override { return 7; }

  void CompleteAll(const Status& st) {
    std::vector<Pending> all;
    {
      std::lock_guard lock(mu);
      all.swap(submitted);
    }
    for (auto& p : all) p.done(st);
  }

  struct Pending {
    otlp::Batch batch;
    otlp::Signal signal;
    Done done;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Pending> submitted;
  Status refuse;
};

class OtlpHttpTest : public ::testing::Test {
 protected:
  OtlpHttpTest() { Make({}); }
  void Make(OtlpHttpOptions options) {
    receiver_ = std::make_unique<OtlpHttpReceiver>(std::move(options), sink_, &registry_, &clock_);
  }

  // Runs the export handler; the returned optional is filled when (and if) it answers.
  std::shared_ptr<std::optional<HttpResponse>> Export(
      otlp::Signal signal, std::string body, std::string content_type,
      std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest req;
    req.method = "POST";
    req.path = "/v1/traces";
    req.body = std::move(body);
    if (!content_type.empty()) req.headers.Add("Content-Type", content_type);
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    auto out = std::make_shared<std::optional<HttpResponse>>();
    receiver_->HandleExport(signal, std::move(req),
                            Responder([out](HttpResponse r) { *out = std::move(r); }));
    return out;
  }

  HttpResponse Preflight(std::vector<std::pair<std::string, std::string>> headers) {
    HttpRequest req;
    req.method = "OPTIONS";
    for (auto& [k, v] : headers) req.headers.Add(k, v);
    HttpResponse got;
    receiver_->HandlePreflight(std::move(req), Responder([&](HttpResponse r) { got = r; }));
    return got;
  }

  bool MetricsContain(const std::string& needle) {
    std::string text = registry_.Serialize();
    if (text.find(needle) != std::string::npos) return true;
    ADD_FAILURE() << "missing '" << needle << "' in\n" << text;
    return false;
  }

  std::shared_ptr<FakeSink> sink_ = std::make_shared<FakeSink>();
  metrics::Registry registry_;
  FakeClock clock_;
  std::unique_ptr<OtlpHttpReceiver> receiver_;
};

// google.rpc.Status {code = 1, message = 2} from a protobuf answer.
std::pair<int, std::string> ParseRpcStatus(std::string_view body) {
  otlp::WireReader r(body);
  uint32_t field;
  otlp::WireType type;
  int code = -1;
  std::string message;
  while (r.NextTag(&field, &type)) {
    if (field == 1 && type == otlp::WireType::kVarint) {
      uint64_t v = 0;
      r.ReadVarint(&v);
      code = static_cast<int>(v);
    } else if (field == 2 && type == otlp::WireType::kLen) {
      std::string_view s;
      r.ReadLen(&s);
      message = std::string(s);
    } else {
      r.Skip(type);
    }
  }
  return {code, message};
}

TEST(ContentTypeTest, MediaTypeWithParameters) {
  OtlpFormat f;
  EXPECT_TRUE(ParseOtlpContentType("application/x-protobuf", &f));
  EXPECT_EQ(f, OtlpFormat::kProto);
  EXPECT_TRUE(ParseOtlpContentType("Application/JSON; charset=utf-8", &f));
  EXPECT_EQ(f, OtlpFormat::kJson);
  EXPECT_FALSE(ParseOtlpContentType("text/plain", &f));
  EXPECT_FALSE(ParseOtlpContentType("", &f));
  EXPECT_FALSE(ParseOtlpContentType("application/jsonx", &f));
}

TEST(CorsTest, OriginMatching) {
  std::vector<std::string> allowed{"https://app.example.com", "https://*.cdn.example.net"};
  EXPECT_TRUE(OriginAllowed(allowed, "https://app.example.com"));
  EXPECT_TRUE(OriginAllowed(allowed, "HTTPS://APP.example.com"));
  EXPECT_TRUE(OriginAllowed(allowed, "https://a.cdn.example.net"));
  EXPECT_FALSE(OriginAllowed(allowed, "https://cdn.example.net"));
  EXPECT_FALSE(OriginAllowed(allowed, "https://evil.com"));
  EXPECT_FALSE(OriginAllowed(allowed, "https://app.example.com.evil.com"));
  EXPECT_TRUE(OriginAllowed({"*"}, "http://localhost:3000"));
  EXPECT_FALSE(OriginAllowed({}, "http://localhost:3000"));
  EXPECT_FALSE(OriginAllowed({"*"}, ""));
}

TEST_F(OtlpHttpTest, ProtobufTracesAnsweredOnlyAfterDurableCommit) {
  auto answer = Export(otlp::Signal::kTraces, ReadData("js_traces.pb"), "application/x-protobuf");
  ASSERT_FALSE(answer->has_value()) << "answered before the batch was durable";
  ASSERT_EQ(sink_->submitted.size(), 1u);
  const otlp::Batch& b = sink_->submitted[0].batch;
  EXPECT_EQ(sink_->submitted[0].signal, otlp::Signal::kTraces);
  EXPECT_GT(b.spans.size(), 0u);
  EXPECT_EQ(b.received_unix_nanos, clock_.NowUnixNanos());
  const size_t spans = b.spans.size();
  sink_->CompleteAll(Status::Ok());
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 200);
  EXPECT_EQ((*answer)->headers.Get("Content-Type"), "application/x-protobuf");
  EXPECT_EQ((*answer)->body, "");  // partial_success left unset
  MetricsContain("avtrace_otlp_http_received_total{signal=\"traces\"} " + std::to_string(spans));
  MetricsContain("avtrace_otlp_http_accepted_total{signal=\"traces\"} " + std::to_string(spans));
  MetricsContain("avtrace_otlp_http_request_duration_seconds_count{signal=\"traces\"} 1");
}

TEST_F(OtlpHttpTest, JsonOfEverySignalWithCharset) {
  struct Case {
    otlp::Signal signal;
    const char* file;
  };
  for (const Case& c : {Case{otlp::Signal::kTraces, "js_traces.json"},
                        Case{otlp::Signal::kMetrics, "js_metrics.json"},
                        Case{otlp::Signal::kLogs, "js_logs.json"}}) {
    auto answer = Export(c.signal, ReadData(c.file), "application/json; charset=utf-8");
    ASSERT_EQ(sink_->submitted.size(), 1u) << c.file;
    EXPECT_GT(sink_->submitted[0].batch.ItemCount(), 0u);
    sink_->CompleteAll(Status::Ok());
    ASSERT_TRUE(answer->has_value());
    EXPECT_EQ((*answer)->status, 200) << (*answer)->body;
    EXPECT_EQ((*answer)->headers.Get("Content-Type"), "application/json");
    EXPECT_EQ((*answer)->body, "{}");
  }
}

TEST_F(OtlpHttpTest, GzipAndZstdBodies) {
  auto answer = Export(otlp::Signal::kMetrics, Gzip(ReadData("js_metrics.pb")),
                       "application/x-protobuf", {{"Content-Encoding", "gzip"}});
  ASSERT_EQ(sink_->submitted.size(), 1u);
  sink_->CompleteAll(Status::Ok());
  EXPECT_EQ((*answer)->status, 200);
}

TEST_F(OtlpHttpTest, WrongContentTypeIs415) {
  auto answer = Export(otlp::Signal::kTraces, "x", "text/plain");
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 415);
  EXPECT_NE((*answer)->body.find("text/plain"), std::string::npos) << (*answer)->body;
  answer = Export(otlp::Signal::kTraces, "x", "");
  EXPECT_EQ((*answer)->status, 415);
  EXPECT_TRUE(sink_->submitted.empty());
  MetricsContain(
      "avtrace_otlp_http_rejected_total{reason=\"unsupported_media_type\",signal=\"traces\"} 2");
}

TEST_F(OtlpHttpTest, UnknownEncodingIs415InRequestEncoding) {
  auto answer =
      Export(otlp::Signal::kTraces, "x", "application/json", {{"Content-Encoding", "br"}});
  EXPECT_EQ((*answer)->status, 415);
  EXPECT_EQ((*answer)->headers.Get("Content-Type"), "application/json");
  EXPECT_NE((*answer)->body.find("'br'"), std::string::npos);
}

TEST_F(OtlpHttpTest, TooLargeAfterDecompressionIs413) {
  OtlpHttpOptions o;
  o.max_body_bytes = 1000;
  Make(o);
  std::string big(5000, ' ');  // compresses to a few bytes, expands past the cap
  auto answer = Export(otlp::Signal::kTraces, Gzip(big), "application/x-protobuf",
                       {{"Content-Encoding", "gzip"}});
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 413);
  EXPECT_FALSE((*answer)->headers.Has("Retry-After"));
  auto [code, message] = ParseRpcStatus((*answer)->body);
  EXPECT_NE(message.find("1000"), std::string::npos) << message;
  MetricsContain("avtrace_otlp_http_rejected_total{reason=\"too_large\",signal=\"traces\"} 1");
}

TEST_F(OtlpHttpTest, UndecodableBodyIs400WithRpcStatus) {
  auto answer = Export(otlp::Signal::kTraces, "\x0a\xff\xff\xff", "application/x-protobuf");
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 400);
  EXPECT_EQ((*answer)->headers.Get("Content-Type"), "application/x-protobuf");
  auto [code, message] = ParseRpcStatus((*answer)->body);
  EXPECT_EQ(code, 3);  // INVALID_ARGUMENT
  EXPECT_FALSE(message.empty());

  answer = Export(otlp::Signal::kLogs, "{\"resourceLogs\": [", "application/json");
  EXPECT_EQ((*answer)->status, 400);
  EXPECT_NE((*answer)->body.find("\"code\":3"), std::string::npos) << (*answer)->body;
  EXPECT_NE((*answer)->body.find("\"message\""), std::string::npos);
  answer = Export(otlp::Signal::kTraces,
                  R"({"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"xyz"}]}]}]})",
                  "application/json");
  EXPECT_EQ((*answer)->status, 400);
  EXPECT_NE((*answer)->body.find("resourceSpans[0].scopeSpans[0].spans[0].traceId: expected"),
            std::string::npos)
      << (*answer)->body;
  EXPECT_TRUE(sink_->submitted.empty());
  MetricsContain("avtrace_otlp_http_rejected_total{reason=\"decode\",signal=\"logs\"} 1");
}

TEST_F(OtlpHttpTest, EmptyRequestSucceedsWithoutSubmitting) {
  for (const char* body : {"", "{}", "{\"resourceSpans\":[]}"}) {
    auto answer = Export(otlp::Signal::kTraces, body, "application/json");
    ASSERT_TRUE(answer->has_value()) << body;
    EXPECT_EQ((*answer)->status, 200);
    EXPECT_EQ((*answer)->body, "{}");
  }
  auto answer = Export(otlp::Signal::kTraces, "", "application/x-protobuf");
  EXPECT_EQ((*answer)->status, 200);
  EXPECT_TRUE(sink_->submitted.empty());
}

TEST_F(OtlpHttpTest, InvalidItemsArePartialSuccess) {
  const std::string body = R"({"resourceSpans":[{"scopeSpans":[{"spans":[
      {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"be16c9b13b4a3be8","name":"ok",
       "startTimeUnixNano":"1","endTimeUnixNano":"2"},
      {"traceId":"00000000000000000000000000000000","spanId":"be16c9b13b4a3be8","name":"bad",
       "startTimeUnixNano":"1","endTimeUnixNano":"2"}]}]}]})";
  auto answer = Export(otlp::Signal::kTraces, body, "application/json");
  ASSERT_EQ(sink_->submitted.size(), 1u);
  EXPECT_EQ(sink_->submitted[0].batch.spans.size(), 1u);
  sink_->CompleteAll(Status::Ok());
  EXPECT_EQ((*answer)->status, 200);
  EXPECT_NE((*answer)->body.find("\"partialSuccess\""), std::string::npos) << (*answer)->body;
  EXPECT_NE((*answer)->body.find("\"rejectedSpans\":\"1\""), std::string::npos) << (*answer)->body;
  MetricsContain("avtrace_otlp_http_received_total{signal=\"traces\"} 2");
  MetricsContain("avtrace_otlp_http_rejected_total{reason=\"invalid_item\",signal=\"traces\"} 1");
}

TEST_F(OtlpHttpTest, QueueFullIs429AndShutdownIs503WithRetryAfter) {
  sink_->refuse = ResourceExhausted("the ingest queue is full");
  auto answer = Export(otlp::Signal::kTraces, ReadData("js_traces.pb"), "application/x-protobuf");
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 429);
  EXPECT_EQ((*answer)->headers.Get("Retry-After"), "7");
  sink_->refuse = Unavailable("the server is shutting down");
  answer = Export(otlp::Signal::kTraces, ReadData("js_traces.json"), "application/json");
  EXPECT_EQ((*answer)->status, 503);
  EXPECT_EQ((*answer)->headers.Get("Retry-After"), "7");
  EXPECT_NE((*answer)->body.find("shutting down"), std::string::npos);
  MetricsContain("avtrace_otlp_http_dropped_total{reason=\"queue_full\",signal=\"traces\"}");
  MetricsContain("avtrace_otlp_http_dropped_total{reason=\"shutdown\",signal=\"traces\"}");
}

TEST_F(OtlpHttpTest, CommitFailureIs503WithRetryAfter) {
  auto answer = Export(otlp::Signal::kLogs, ReadData("js_logs.pb"), "application/x-protobuf");
  sink_->CompleteAll(Unavailable("storage error: disk full"));
  ASSERT_TRUE(answer->has_value());
  EXPECT_EQ((*answer)->status, 503);
  EXPECT_EQ((*answer)->headers.Get("Retry-After"), "7");
  auto [code, message] = ParseRpcStatus((*answer)->body);
  EXPECT_EQ(code, 14);  // UNAVAILABLE
  EXPECT_EQ(message, "storage error: disk full");
  MetricsContain("avtrace_otlp_http_dropped_total{reason=\"store_error\",signal=\"logs\"}");
}

TEST_F(OtlpHttpTest, CompletionAfterReceiverIsGoneIsSafe) {
  auto answer = Export(otlp::Signal::kTraces, ReadData("js_traces.pb"), "application/x-protobuf");
  receiver_.reset();
  sink_->CompleteAll(Status::Ok());
  EXPECT_EQ((*answer)->status, 200);
}

TEST_F(OtlpHttpTest, CorsPreflightAndActualRequest) {
  OtlpHttpOptions o;
  o.cors_allowed_origins = {"https://player.example.com"};
  Make(o);
  HttpResponse r = Preflight({{"Origin", "https://player.example.com"},
                              {"Access-Control-Request-Method", "POST"},
                              {"Access-Control-Request-Headers", "content-type,x-custom-key"}});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.Get("Access-Control-Allow-Origin"), "https://player.example.com");
  EXPECT_EQ(r.headers.Get("Access-Control-Allow-Methods"), "POST, OPTIONS");
  std::string allow(r.headers.Get("Access-Control-Allow-Headers"));
  EXPECT_NE(allow.find("Content-Type"), std::string::npos);
  EXPECT_NE(allow.find("Content-Encoding"), std::string::npos);
  EXPECT_NE(allow.find("x-custom-key"), std::string::npos);
  EXPECT_EQ(r.headers.Get("Vary"), "Origin");

  r = Preflight(
      {{"Origin", "https://evil.example.org"}, {"Access-Control-Request-Method", "POST"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_FALSE(r.headers.Has("Access-Control-Allow-Origin"));

  r = Preflight({});
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.headers.Get("Allow"), "POST, OPTIONS");

  auto answer = Export(otlp::Signal::kTraces, "", "application/json",
                       {{"Origin", "https://player.example.com"}});
  EXPECT_EQ((*answer)->headers.Get("Access-Control-Allow-Origin"), "https://player.example.com");
  answer =
      Export(otlp::Signal::kTraces, "", "text/plain", {{"Origin", "https://evil.example.org"}});
  EXPECT_FALSE((*answer)->headers.Has("Access-Control-Allow-Origin"));
}

TEST_F(OtlpHttpTest, RandomBodiesNeverCrash) {
  std::mt19937 rng(1234);
  const std::string seed = ReadData("js_traces.pb");
  const std::string json_seed = ReadData("js_traces.json");
  for (int i = 0; i < 3000; ++i) {
    std::string body = i % 2 ? seed : json_seed;
    // Flip, truncate or insert bytes.
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !body.empty(); ++e) {
      size_t pos = rng() % body.size();
      switch (rng() % 3) {
        case 0:
          body[pos] = static_cast<char>(rng());
          break;
        case 1:
          body.resize(pos);
          break;
        default:
          body.insert(pos, 1, static_cast<char>(rng()));
          break;
      }
    }
    auto answer =
        Export(otlp::Signal::kTraces, body, i % 2 ? "application/x-protobuf" : "application/json");
    sink_->CompleteAll(Status::Ok());
    ASSERT_TRUE(answer->has_value());
    EXPECT_TRUE((*answer)->status == 200 || (*answer)->status == 400) << (*answer)->status;
  }
}

// End to end over a socket: the JS SDK's chunked, gzip-compressed protobuf request.
TEST(OtlpHttpServerTest, ChunkedGzipOverTheWire) {
  namespace asio = boost::asio;
  namespace http = boost::beast::http;
  using tcp = asio::ip::tcp;
  asio::io_context ioc;
  auto guard = asio::make_work_guard(ioc);
  metrics::Registry registry;
  FakeClock clock;
  auto sink = std::make_shared<FakeSink>();
  OtlpHttpReceiver receiver({}, sink, &registry, &clock);
  HttpServer server(ioc, {}, &registry, &clock);
  receiver.RegisterRoutes(&server.router());
  ASSERT_TRUE(server.Listen().ok());
  std::thread io([&] { ioc.run(); });
  std::thread committer([&] {
    // Stands in for the pipeline's writer thread.
    EXPECT_TRUE(sink->WaitForSubmission());
    sink->CompleteAll(Status::Ok());
  });

  asio::io_context client_ioc;
  tcp::socket socket(client_ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.endpoint().port));
  timeval tv{5, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string gz = Gzip(ReadData("js_traces.pb"));
  std::string raw =
      "POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
      "Content-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"
      "User-Agent: OTel-OTLP-Exporter-JavaScript/0.223.1\r\n\r\n";
  size_t half = gz.size() / 2;
  auto chunk = [](std::string_view data) {
    char len[16];
    snprintf(len, sizeof len, "%zx\r\n", data.size());
    return std::string(len) + std::string(data) + "\r\n";
  };
  raw += chunk(std::string_view(gz).substr(0, half)) + chunk(std::string_view(gz).substr(half)) +
         "0\r\n\r\n";
  asio::write(socket, asio::buffer(raw));
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(socket, buffer, res, ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res[http::field::content_type], "application/x-protobuf");
  // Wrong method on a known path: 405 with Allow.
  http::request<http::empty_body> get{http::verb::get, "/v1/traces", 11};
  get.set(http::field::host, "x");
  http::write(socket, get);
  http::response<http::string_body> res2;
  http::read(socket, buffer, res2, ec);
  EXPECT_EQ(res2.result_int(), 405);
  EXPECT_EQ(res2[http::field::allow], "OPTIONS, POST");

  committer.join();
  server.Stop(std::chrono::milliseconds(100));
  guard.reset();
  ioc.stop();
  io.join();
}

}  // namespace
}  // namespace avtrace::ingest
