#pragma once
// m-trace session tokens: short-lived HS256 tokens a backend issues for one player so that the
// project token never ships to browsers (docs/PLAYER_API.md, "Session tokens").
//
// Form: "mtr_st_" + base64url(header) "." base64url(claims) "." base64url(HMAC-SHA256 over the
// two first parts, with the key named by the header's kid). Header {"alg":"HS256","kid":..,
// "typ":"JWT"}; claims {"iss":"m-trace","sub":<project>,"aud":"playback-events","iat","nbf",
// "exp","jti":<token id>, optional "session_id","origin"}. TTL at most max_ttl (m-trace: 900 s).
//
// The key ring comes from the server's config only: "kid:base64secret" entries (secrets of at
// least 32 bytes, standard or url-safe base64), one of them active for issuing; the others still
// verify, so keys can be rotated without invalidating tokens in flight.
//
// Threads: immutable after Create; Issue and Verify are thread-safe. Errors: Create returns
// InvalidArgument naming the bad entry; Verify returns Unauthenticated with the reason
// ("malformed", "unknown key", "bad signature", "wrong issuer or audience", "not yet valid",
// "expired") — never the token itself.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace avtrace::player {

struct SessionTokenClaims {
  std::string project_id;  // sub
  std::string session_id;  // optional binding: events must carry this session id
  std::string origin;      // optional binding: requests must come from this Origin
  std::string token_id;    // jti
  uint64_t issued_at = 0, not_before = 0, expires_at = 0;  // Unix seconds
};

struct IssuedSessionToken {
  std::string value;
  SessionTokenClaims claims;
};

class SessionTokenKeys {
 public:
  static constexpr uint64_t kMaxTtlSeconds = 900;

  static Result<std::unique_ptr<SessionTokenKeys>> Create(const std::vector<std::string>& keys,
                                                          const std::string& active_kid,
                                                          uint64_t max_ttl_seconds);

  uint64_t max_ttl_seconds() const { return max_ttl_; }
  IssuedSessionToken Issue(std::string_view project_id, std::string_view session_id,
                           std::string_view origin, uint64_t ttl_seconds,
                           uint64_t now_unix_seconds) const;
  Result<SessionTokenClaims> Verify(std::string_view token, uint64_t now_unix_seconds) const;

 private:
  std::map<std::string, std::string, std::less<>> keys_;  // kid -> secret
  std::string active_kid_;
  uint64_t max_ttl_ = kMaxTtlSeconds;
};

}  // namespace avtrace::player
