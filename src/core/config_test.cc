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

TEST(Config, PlayerProjectsAndTokensAreRedacted) {
  setenv("AVTRACE_TEST_PLAYER_TOKEN", "s3cret-token", 1);
  auto c = ParseConfig(R"(
projects:
  - id: shop
    tokens: ["${env:AVTRACE_TEST_PLAYER_TOKEN}"]
    allowed_origins: [https://shop.example]
  - id: lab
    token_sha256: [0000000000000000000000000000000000000000000000000000000000000000]
player:
  rate_limit: {capacity: 500, refill_per_second: 50, max_buckets: 10}
  session: {stall_after_ms: 1000, end_after_ms: 2000, sweep_interval_ms: 100}
  sse_heartbeat_ms: 250
)",
                       "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->projects.size(), 2u);
  EXPECT_EQ(c->projects[0].tokens[0], "s3cret-token");
  EXPECT_EQ(c->projects[0].allowed_origins[0], "https://shop.example");
  EXPECT_EQ(c->projects[1].token_sha256.size(), 1u);
  EXPECT_EQ(c->player.rate_limit.capacity, 500u);
  EXPECT_EQ(c->player.session.stall_after_ms, 1000u);
  EXPECT_EQ(c->player.session.sweep_interval_ms, 100u);
  EXPECT_EQ(c->player.sse_heartbeat_ms, 250u);
  const std::string dump = DumpConfig(*c);
  EXPECT_EQ(dump.find("s3cret"), std::string::npos) << dump;
  EXPECT_NE(dump.find("REDACTED"), std::string::npos);
  auto again = ParseConfig(dump, "dump");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->player.session.end_after_ms, 2000u);

  EXPECT_FALSE(ParseConfig("projects:\n  - tokens: [a]\n", "t").ok());  // no id
  EXPECT_FALSE(ParseConfig("projects:\n  - id: a\n    token: x\n", "t").ok());  // unknown
  EXPECT_FALSE(
      ParseConfig("player:\n  session: {stall_after_ms: 10, end_after_ms: 5}\n", "t").ok());
}

}  // namespace
}  // namespace avtrace

namespace avtrace {
namespace {

TEST(Config, ProbesAndTheirSettings) {
  auto c = ParseConfig(R"(
probes:
  - name: live-main
    url: https://origin.example.com/live/master.m3u8
    max_playlists: 2
  - name: dash.1
    url: http://origin.example.com/live.mpd
    check_segments: false
probe_settings:
  workers: 3
  timeout: 5s
  metrics_interval: 30s
  allow_private: true
)",
                       "t.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->probes.size(), 2u);
  EXPECT_EQ(c->probes[0].name, "live-main");
  EXPECT_EQ(c->probes[0].max_playlists, 2u);
  EXPECT_TRUE(c->probes[0].check_segments);
  EXPECT_FALSE(c->probes[1].check_segments);
  EXPECT_EQ(c->probe_settings.workers, 3u);
  EXPECT_EQ(c->probe_settings.timeout_seconds, 5u);
  EXPECT_EQ(c->probe_settings.metrics_interval_seconds, 30u);
  EXPECT_TRUE(c->probe_settings.allow_private);
  auto again = ParseConfig(DumpConfig(*c), "dump");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->probes.size(), 2u);

  const std::pair<const char*, const char*> bad[] = {
      {"probes:\n  - url: https://a.example/x.m3u8\n", "a probe needs a name"},
      {"probes:\n  - name: a b\n    url: https://a.example/x.m3u8\n", "a probe needs a name"},
      {"probes:\n  - name: a\n    url: ftp://a.example/x.m3u8\n", "http:// or https://"},
      {"probes:\n  - name: a\n    url: https://a/x\n  - name: a\n    url: https://a/y\n",
       "used twice"},
      {"probes:\n  - name: a\n    url: https://a/x\n    colour: red\n", "unknown key 'probes[0].colour'"},
      {"probe_settings:\n  workers: 0\n", "workers"},
      {"probe_settings:\n  max_probes: 0\nprobes:\n  - name: a\n    url: https://a/x\n",
       "max_probes"},
  };
  for (const auto& [yaml, message] : bad) {
    auto r = ParseConfig(yaml, "t.yaml");
    ASSERT_FALSE(r.ok()) << yaml;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
  }
}

}  // namespace
}  // namespace avtrace
