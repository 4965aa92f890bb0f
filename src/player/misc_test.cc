#include <gtest/gtest.h>

#include "player/projects.h"
#include "player/rate_limit.h"
#include "player/text.h"

namespace avtrace::player {
namespace {

TEST(Text, Rfc3339) {
  uint64_t ns;
  EXPECT_TRUE(ParseRfc3339("2024-05-01T12:00:00.000Z", &ns));
  EXPECT_EQ(ns, 1714564800ULL * 1'000'000'000ULL);
  EXPECT_TRUE(ParseRfc3339("2024-02-29T00:00:00.5+01:30", &ns));
  EXPECT_FALSE(ParseRfc3339("2023-02-29T00:00:00Z", &ns));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00", &ns));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:60Z", &ns));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00.Z", &ns));
  EXPECT_FALSE(ParseRfc3339("2024-05-01T12:00:00.1234567890Z", &ns));
  EXPECT_EQ(FormatRfc3339Millis(1714564800123ULL * 1'000'000ULL), "2024-05-01T12:00:00.123Z");
}

TEST(Text, Redaction) {
  EXPECT_EQ(RedactUrl("https://u:p@cdn.example.com/a/b.m3u8?token=x#y"), "https://cdn.example.com/a/b.m3u8");
  EXPECT_EQ(RedactUrl("HTTPS://cdn.example.com/aaaaaaaaaaaaaaaaaaaaaaaaaaaaa/b"), "https://cdn.example.com/:redacted/b");
  EXPECT_EQ(RedactUrl("https://cdn.example.com/%zz/b"), ":redacted");
  EXPECT_EQ(RedactUrl("https://cdn.example.com/%41bc/b/"), "https://cdn.example.com/%41bc/b/");
  EXPECT_EQ(RedactUrl("/relative/path"), ":redacted");
  EXPECT_EQ(RedactUrl("mailto:a@b"), ":redacted");
  EXPECT_TRUE(ShouldRedactMetaValue("x", "error: boom"));  // Go's url.Parse sees a scheme
  EXPECT_FALSE(ShouldRedactMetaValue("x", "12:30"));
  EXPECT_FALSE(ShouldRedactMetaValue("x", "hello world"));
  EXPECT_TRUE(ShouldRedactMetaValue("Segment_URL", "a"));
  EXPECT_TRUE(IsAlreadyRedactedUrl("https://cdn.example.com/live/:redacted/x.m3u8"));
  EXPECT_TRUE(IsAlreadyRedactedUrl("https://cdn.example.com/x?"));
  EXPECT_FALSE(IsAlreadyRedactedUrl("https://cdn.example.com/x?a=1"));
  EXPECT_FALSE(IsAlreadyRedactedUrl("cdn.example.com/x"));
  EXPECT_TRUE(IsTokenLikeSegment("eyJhbGciOi.eyJzdWIi.c2ln"));
  EXPECT_FALSE(IsTokenLikeSegment("index.m3u8"));
  std::string s;
  AppendJsonString(&s, "a\"b\\\n\x01");
  EXPECT_EQ(s, R"("a\"b\\\n\u0001")");
}

TEST(Projects, LabModeHashedTokensCors) {
  auto lab = ProjectRegistry::Create({});
  ASSERT_TRUE(lab.ok());
  EXPECT_TRUE((*lab)->IsLabMode());
  ASSERT_NE((*lab)->ResolveToken("demo-token"), nullptr);
  EXPECT_EQ((*lab)->ResolveToken("demo-token")->id, "demo");
  EXPECT_EQ((*lab)->ResolveToken("demo-tokeN"), nullptr);
  EXPECT_EQ((*lab)->ResolveToken(""), nullptr);
  bool refused;
  HeaderList h = (*lab)->Preflight(CorsGroup::kSse, "http://localhost:3000", &refused);
  EXPECT_FALSE(refused);
  ASSERT_EQ(h.size(), 6u);
  EXPECT_EQ(h[0].first, "Vary");
  EXPECT_EQ(h[1].second, "http://localhost:3000");
  EXPECT_NE(h[3].second.find("Last-Event-ID"), std::string::npos);
  h = (*lab)->Preflight(CorsGroup::kPlayer, "https://evil.example", &refused);
  EXPECT_TRUE(refused);
  EXPECT_EQ(h.size(), 1u);
  EXPECT_EQ((*lab)->CorsHeaders("https://evil.example").size(), 1u);
  EXPECT_EQ((*lab)->CorsHeaders("http://localhost:5173").size(), 2u);

  ProjectsConfig c;
  c.projects.push_back({"p1", {"t1"}, {}, {"https://app.example"}});
  std::string hex;
  for (uint8_t b : Sha256("t2")) {
    static const char* k = "0123456789abcdef";
    hex += k[b >> 4];
    hex += k[b & 15];
  }
  c.projects.push_back({"p2", {}, {hex}, {}});
  auto reg = ProjectRegistry::Create(c);
  ASSERT_TRUE(reg.ok());
  EXPECT_FALSE((*reg)->IsLabMode());
  EXPECT_EQ((*reg)->ResolveToken("t2")->id, "p2");
  EXPECT_EQ((*reg)->ResolveToken("demo-token"), nullptr);
  EXPECT_TRUE((*reg)->ResolveToken("t1")->IsOriginAllowed(""));
  EXPECT_FALSE((*reg)->ResolveToken("t1")->IsOriginAllowed("https://app.example.evil"));
  EXPECT_EQ(TokenFingerprint("t1").size(), 15u);
  c.projects.push_back({"p3", {"t1"}, {}, {}});
  EXPECT_FALSE(ProjectRegistry::Create(c).ok());
  EXPECT_FALSE(ProjectRegistry::Create({{{"bad id", {"x"}, {}, {}}}, {}}).ok());
  EXPECT_FALSE(ProjectRegistry::Create({{{"p", {}, {"zz"}, {}}}, {}}).ok());
  EXPECT_FALSE(ProjectRegistry::Create({{{"p", {"x"}, {}, {"*"}}}, {}}).ok());
}

TEST(RateLimit, BucketsEvictionAllOrNothing) {
  FakeClock clock;
  RateLimiter l(&clock, {100, 100, 50});
  uint32_t retry = 0;
  EXPECT_TRUE(l.Allow({"p", "1.2.3.4", "o"}, 100, &retry));
  EXPECT_FALSE(l.Allow({"p", "5.6.7.8", ""}, 1, &retry));  // project bucket empty
  EXPECT_EQ(retry, 1u);
  EXPECT_TRUE(l.Allow({"q", "5.6.7.8", ""}, 50, &retry));  // all-or-nothing: 5.6.7.8 untouched
  EXPECT_TRUE(l.Allow({"r", "", ""}, 0, &retry));
  EXPECT_TRUE(l.Allow({"", "", ""}, 1000, &retry));
  EXPECT_FALSE(l.Allow({"s", "", ""}, 101, &retry));
  clock.Advance(500'000'000);
  EXPECT_TRUE(l.Allow({"p", "", ""}, 50, &retry));
  for (int i = 0; i < 500; ++i) EXPECT_TRUE(l.Allow({"", "10.0.0." + std::to_string(i), ""}, 1, &retry));
  EXPECT_LE(l.BucketCount(), 50u);
  EXPECT_GT(l.Evictions(), 0u);
}

}  // namespace
}  // namespace avtrace::player
