// Session tokens: issue/verify round trip, every refusal reason, key rotation, the key-ring
// config checks, and the beacon decoder using them (project from the token, session and origin
// bindings, no fallback to X-MTrace-Token).
#include "player/session_tokens.h"

#include <gtest/gtest.h>

#include "core/base64url.h"
#include "player/beacon.h"
#include "player/player_testing.h"

namespace avtrace::player {
namespace {

const std::string kSecretA = "k1:" + Base64UrlEncode(std::string(32, 'a'));
const std::string kSecretB = "k2:" + Base64UrlEncode(std::string(40, 'b'));
constexpr uint64_t kT = 1'800'000'000;

std::unique_ptr<SessionTokenKeys> Keys(const std::string& active = "k1", uint64_t ttl = 900) {
  return std::move(SessionTokenKeys::Create({kSecretA, kSecretB}, active, ttl).value());
}

TEST(SessionTokens, IssueAndVerify) {
  auto keys = Keys();
  IssuedSessionToken t = keys->Issue("demo", "sess-1", "https://shop.example", 600, kT);
  EXPECT_EQ(t.value.rfind("mtr_st_", 0), 0u);
  EXPECT_EQ(t.claims.expires_at, kT + 600);
  EXPECT_EQ(t.claims.token_id.rfind("st_", 0), 0u);
  auto v = keys->Verify(t.value, kT + 10);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->project_id, "demo");
  EXPECT_EQ(v->session_id, "sess-1");
  EXPECT_EQ(v->origin, "https://shop.example");
  EXPECT_EQ(v->token_id, t.claims.token_id);
  // A TTL over the maximum is cut to it.
  EXPECT_EQ(keys->Issue("demo", "", "", 5000, kT).claims.expires_at, kT + 900);
}

TEST(SessionTokens, RefusalsNameTheReasonNeverTheToken) {
  auto keys = Keys();
  std::string good = keys->Issue("demo", "", "", 60, kT).value;
  auto reason = [&](std::string_view token, uint64_t now = kT + 1) {
    auto v = keys->Verify(token, now);
    EXPECT_FALSE(v.ok());
    EXPECT_EQ(v.status().code(), StatusCode::kUnauthenticated);
    EXPECT_EQ(v.status().message().find(std::string(token)), std::string::npos);
    return v.status().message();
  };
  EXPECT_NE(reason(good, kT + 60).find("expired"), std::string::npos);
  EXPECT_NE(reason(good, kT - 5).find("not yet valid"), std::string::npos);
  std::string tampered = good;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_NE(reason(tampered).find("bad signature"), std::string::npos);
  EXPECT_NE(reason("mtr_st_abc").find("malformed"), std::string::npos);
  EXPECT_NE(reason("mtr_pt_x.y.z").find("malformed"), std::string::npos);
  // Claims re-signed by someone else's key: unknown kid.
  auto other = std::move(SessionTokenKeys::Create({"zz:" + Base64UrlEncode(std::string(32, 'z'))},
                                                  "zz", 900)
                             .value());
  EXPECT_NE(reason(other->Issue("demo", "", "", 60, kT).value).find("unknown key"),
            std::string::npos);
  // Same kid name, different secret: bad signature.
  auto impostor = std::move(SessionTokenKeys::Create({"k1:" + Base64UrlEncode(std::string(32, 'x'))},
                                                     "k1", 900)
                                .value());
  EXPECT_NE(reason(impostor->Issue("demo", "", "", 60, kT).value).find("bad signature"),
            std::string::npos);
}

TEST(SessionTokens, RotationKeepsOldTokensValid) {
  auto old_ring = Keys("k1");
  std::string issued_by_k1 = old_ring->Issue("demo", "", "", 300, kT).value;
  auto new_ring = Keys("k2");
  EXPECT_TRUE(new_ring->Verify(issued_by_k1, kT + 1).ok());
  EXPECT_TRUE(new_ring->Verify(new_ring->Issue("demo", "", "", 300, kT).value, kT + 1).ok());
}

TEST(SessionTokens, KeyRingConfigIsChecked) {
  auto err = [](std::vector<std::string> keys, std::string active, uint64_t ttl = 900) {
    auto r = SessionTokenKeys::Create(keys, active, ttl);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(err({"nocolon"}, "x").find("kid:base64secret"), std::string::npos);
  EXPECT_NE(err({"k:" + Base64UrlEncode("short")}, "k").find("at least 32"), std::string::npos);
  EXPECT_NE(err({"k:***"}, "k").find("not base64"), std::string::npos);
  EXPECT_NE(err({kSecretA, kSecretA}, "k1").find("twice"), std::string::npos);
  EXPECT_NE(err({kSecretA}, "k9").find("active_kid"), std::string::npos);
  EXPECT_NE(err({kSecretA}, "k1", 901).find("max_ttl"), std::string::npos);
  // Standard base64 with padding is accepted too.
  EXPECT_TRUE(SessionTokenKeys::Create({"p:YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE="}, "p", 900).ok());
}

// The beacon decoder with a key ring.
struct Decoded {
  int status;
  std::string detail;
  std::string project;
};

Decoded DecodeWith(const SessionTokenKeys* keys, std::string_view bearer, std::string_view origin,
                   std::string_view session = "s1", std::string_view legacy = "") {
  static auto registry = std::move(ProjectRegistry::Create({}).value());
  FakeClock clock(testing::kNow);
  RateLimiter limiter(&clock, {1e6, 1e6, 1000});
  BeaconDecoder decoder(registry.get(), &limiter, nullptr, keys);
  std::string auth = bearer.empty() ? "" : "Bearer " + std::string(bearer);
  std::string body = testing::WithNow(
      R"({"schema_version":"1.0","events":[{"event_name":"playback_started","project_id":"demo",)"
      R"("session_id":")" + std::string(session) +
      R"(","client_timestamp":"NOW","sdk":{"name":"@avtrace/player","version":"0.1.0"}}]})");
  BeaconRequest req;
  req.authorization = auth;
  req.mtrace_token = legacy;
  req.origin = origin;
  req.body = body;
  req.client_address = "192.0.2.1";
  req.now_unix_nanos = testing::kNow;
  BeaconResponse r = decoder.Decode(req);
  return {r.status, r.detail, r.project ? r.project->id : ""};
}

TEST(SessionTokens, BeaconsUseThemInsteadOfTheProjectToken) {
  auto keys = Keys();
  const uint64_t now = testing::kNow / 1'000'000'000ULL;
  std::string any = keys->Issue("demo", "", "", 300, now).value;
  Decoded ok = DecodeWith(keys.get(), any, "http://localhost:5173");
  EXPECT_EQ(ok.status, 202) << ok.detail;
  EXPECT_EQ(ok.project, "demo");
  // Bound to a session and an origin.
  std::string bound = keys->Issue("demo", "s1", "http://localhost:5173", 300, now).value;
  EXPECT_EQ(DecodeWith(keys.get(), bound, "http://localhost:5173").status, 202);
  EXPECT_EQ(DecodeWith(keys.get(), bound, "http://localhost:5173", "s2").status, 403);
  EXPECT_EQ(DecodeWith(keys.get(), bound, "http://localhost:3000").status, 403);
  // Refusals: expired, a token of an unknown project, no key ring, and no fallback to a valid
  // X-MTrace-Token when the session token is bad.
  std::string expired = keys->Issue("demo", "", "", 10, now - 100).value;
  EXPECT_EQ(DecodeWith(keys.get(), expired, "").status, 401);
  EXPECT_EQ(DecodeWith(keys.get(), keys->Issue("ghost", "", "", 60, now).value, "").status, 401);
  EXPECT_EQ(DecodeWith(nullptr, any, "").status, 401);
  EXPECT_EQ(DecodeWith(keys.get(), expired, "", "s1", "demo-token").status, 401);
}

}  // namespace
}  // namespace avtrace::player
