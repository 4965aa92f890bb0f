#include "api/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <fstream>
#include <iterator>

#include "metrics/registry.h"

namespace avtrace::api {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

// Accepts everything and counts what was committed.
class CountingStore : public store::Store {
 public:
  Status Append(std::span<const otlp::Batch* const> batches) override {
    for (const auto* b : batches) spans += b->spans.size();
    return Status::Ok();
  }
  Result<bool> Maintain(uint32_t) override { return false; }
  Result<store::RetentionResult> ApplyRetention(const store::RetentionCutoffs&, uint32_t) override {
    return store::RetentionResult{};
  }
  Result<otlp::Batch> GetTrace(const otlp::TraceId&) override { return NotFound("none"); }
  Result<store::TraceSearchResult> SearchTraces(const store::TraceQuery&) override {
    return store::TraceSearchResult{};
  }
  Result<std::vector<store::MetricInfo>> ListMetrics(const store::MetricListQuery&) override {
    return std::vector<store::MetricInfo>{};
  }
  Result<store::SeriesResult> QuerySeries(const store::SeriesQuery&) override {
    return NotFound("none");
  }
  Result<store::LogSearchResult> SearchLogs(const store::LogQuery&) override {
    return store::LogSearchResult{};
  }
  Result<store::StoreStats> Stats() override {
    store::StoreStats s;
    s.spans = spans.load();
    return s;
  }
  void Close() override {}

  std::atomic<uint64_t> spans{0};
};

std::string ReadData(const std::string& name) {
  std::ifstream in(std::string(AVTRACE_SOURCE_DIR) + "/test/data/otlp/" + name, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

http::response<http::string_body> Send(uint16_t port, http::verb verb, const std::string& target,
                                       std::string body = "", std::string content_type = "") {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  timeval tv{10, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (!content_type.empty()) req.set(http::field::content_type, content_type);
  req.body() = std::move(body);
  req.prepare_payload();
  http::write(socket, req);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> res;
  boost::system::error_code ec;
  http::read(socket, buffer, res, ec);
  EXPECT_FALSE(ec) << ec.message();
  return res;
}

TEST(ServerTest, EndToEndIngestQueryAndShutdown) {
  Config config;
  config.otlp_http.listen = "127.0.0.1:0";
  config.http.listen = "127.0.0.1:0";
  config.io_threads = 2;
  CountingStore store;
  metrics::Registry registry;
  const Clock* clock = &SystemClock::Instance();
  pipeline::Pipeline pipeline(config.pipeline, config.retention, &store, &registry, clock);
  pipeline.Start();

  auto server = Server::Start(config, &pipeline, &store, &registry, clock, "9.9.9");
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const ServerEndpoints& ep = (*server)->endpoints();
  ASSERT_TRUE(ep.otlp_http.has_value());
  EXPECT_NE(ep.otlp_http->port, 0);
  EXPECT_NE(ep.http.port, 0);
  EXPECT_EQ(ep.http.host, "127.0.0.1");

  auto res = Send(ep.otlp_http->port, http::verb::post, "/v1/traces", ReadData("js_traces.pb"),
                  "application/x-protobuf");
  EXPECT_EQ(res.result_int(), 200) << res.body();
  EXPECT_GT(store.spans.load(), 0u) << "acknowledged before the commit";

  res = Send(ep.http.port, http::verb::get, "/api/v1/status");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_NE(res.body().find("\"version\":\"9.9.9\""), std::string::npos) << res.body();
  EXPECT_NE(res.body().find("\"otlpHttp\":\"" + ep.otlp_http->ToString() + "\""), std::string::npos)
      << res.body();
  EXPECT_EQ(Send(ep.http.port, http::verb::get, "/readyz").result_int(), 200);
  res = Send(ep.http.port, http::verb::get, "/metrics");
  EXPECT_NE(res.body().find("avtrace_otlp_http_accepted_total{signal=\"traces\"}"),
            std::string::npos);
  EXPECT_EQ(Send(ep.http.port, http::verb::get, "/api/v1/traces/zz").result_int(), 400);

  (*server)->Stop(std::chrono::seconds(2));
  (*server)->Stop(std::chrono::seconds(2));  // safe twice
  pipeline.Shutdown();
  asio::io_context ioc;
  tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), ep.http.port), ec);
  EXPECT_TRUE(ec) << "still accepting after Stop";
}

TEST(ServerTest, BindFailureNamesTheAddress) {
  Config config;
  config.otlp_http.listen = "127.0.0.1:0";
  config.http.listen = "127.0.0.1:0";
  CountingStore store;
  metrics::Registry registry;
  const Clock* clock = &SystemClock::Instance();
  auto first = Server::Start(config, nullptr, &store, &registry, clock);
  ASSERT_TRUE(first.ok());
  config.http.listen = (*first)->endpoints().http.ToString();
  config.otlp_http.enabled = false;
  auto second = Server::Start(config, nullptr, &store, &registry, clock);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(config.http.listen), std::string::npos)
      << second.status().message();

  config.http.listen = "not an address";
  auto third = Server::Start(config, nullptr, &store, &registry, clock);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code(), StatusCode::kInvalidArgument) << third.status().ToString();
}

}  // namespace
}  // namespace avtrace::api
