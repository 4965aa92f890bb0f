#include "core/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace avtrace {
namespace {

TEST(Config, DefaultsWhenEmpty) {
  auto c = ParseConfig("", "test.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->otlp_http.listen, "127.0.0.1:4318");
  EXPECT_EQ(c->http.listen, "127.0.0.1:8080");
  EXPECT_EQ(c->otlp_http.max_body_bytes, 64ull << 20);
  EXPECT_EQ(c->SqlitePath(), "./data/avtrace.db");
}

TEST(Config, ReadsKeysAndSizesAndDurations) {
  auto c = ParseConfig(R"(
data_dir: /var/lib/avtrace
otlp_http:
  listen: 0.0.0.0:4318
  max_body_bytes: 8MiB
  cors_allowed_origins: [http://localhost:5173]
pipeline:
  queue_max_items: 5000
retention:
  traces: 3d
  logs: 12h
)", "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/var/lib/avtrace");
  EXPECT_EQ(c->otlp_http.max_body_bytes, 8ull << 20);
  ASSERT_EQ(c->otlp_http.cors_allowed_origins.size(), 1u);
  EXPECT_EQ(c->pipeline.queue_max_items, 5000u);
  EXPECT_EQ(c->retention.traces_seconds, 3u * 86400);
  EXPECT_EQ(c->retention.logs_seconds, 12u * 3600);
}

TEST(Config, UnknownKeyNamesKeyFileAndLine) {
  auto c = ParseConfig("http:\n  listen: 127.0.0.1:1\notlp_http:\n  lisen: x\n", "my.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(), "my.yaml:4: otlp_http.lisen: unknown key 'otlp_http.lisen'");
}

TEST(Config, EnvExpansion) {
  setenv("AVTRACE_TEST_DIR", "/tmp/x", 1);
  auto c = ParseConfig("data_dir: ${env:AVTRACE_TEST_DIR}/data\n", "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->data_dir, "/tmp/x/data");
  auto missing = ParseConfig("data_dir: ${env:AVTRACE_SURELY_UNSET_VAR}\n", "t.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("AVTRACE_SURELY_UNSET_VAR is not set"),
            std::string::npos);
}

TEST(Config, BadValuesAreExplained) {
  auto c = ParseConfig("pipeline:\n  queue_max_items: lots\n", "t.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("t.yaml:2: pipeline.queue_max_items: expected a non-negative integer"),
            std::string::npos)
      << c.status().message();
  auto l = ParseConfig("http:\n  listen: nowhere\n", "t.yaml");
  ASSERT_FALSE(l.ok());
  auto y = ParseConfig("a: [\n", "t.yaml");
  ASSERT_FALSE(y.ok());
}

TEST(Config, ListenAddress) {
  std::string host;
  uint16_t port;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:0", &host, &port).ok());
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 0);
  ASSERT_TRUE(ParseListenAddress("[::1]:4318", &host, &port).ok());
  EXPECT_EQ(host, "::1");
  EXPECT_EQ(port, 4318);
  EXPECT_FALSE(ParseListenAddress("host:99999", &host, &port).ok());
  EXPECT_FALSE(ParseListenAddress("4318", &host, &port).ok());
}

TEST(Config, DumpRoundTrips) {
  Config c;
  c.pipeline.queue_max_items = 1234;
  auto again = ParseConfig(DumpConfig(c), "dump");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << DumpConfig(c);
  EXPECT_EQ(again->pipeline.queue_max_items, 1234u);
}

}  // namespace
}  // namespace avtrace
