#include "player/session_tokens.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <algorithm>

#include "core/base64url.h"
#include "player/text.h"

namespace avtrace::player {
namespace {

constexpr std::string_view kPrefix = "mtr_st_";
constexpr std::string_view kIssuer = "m-trace";
constexpr std::string_view kAudience = "playback-events";
constexpr size_t kMinSecretBytes = 32;

std::string Sign(std::string_view secret, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string(reinterpret_cast<const char*>(mac), len);
}

Status Unauthenticated(std::string why) {
  return Status(StatusCode::kUnauthenticated, "session token: " + std::move(why));
}

}  // namespace

Result<std::unique_ptr<SessionTokenKeys>> SessionTokenKeys::Create(
    const std::vector<std::string>& keys, const std::string& active_kid, uint64_t max_ttl_seconds) {
  auto ring = std::unique_ptr<SessionTokenKeys>(new SessionTokenKeys());
  for (size_t i = 0; i < keys.size(); ++i) {
    const std::string at = "entry " + std::to_string(i + 1);
    const size_t colon = keys[i].find(':');
    if (colon == std::string::npos || colon == 0)
      return InvalidArgument(at + ": expected kid:base64secret");
    const std::string kid = keys[i].substr(0, colon);
    std::string b64 = keys[i].substr(colon + 1);
    std::replace(b64.begin(), b64.end(), '+', '-');
    std::replace(b64.begin(), b64.end(), '/', '_');
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    std::string secret;
    if (!Base64UrlDecode(b64, &secret)) return InvalidArgument(at + " (kid " + kid + "): the secret is not base64");
    if (secret.size() < kMinSecretBytes)
      return InvalidArgument(at + " (kid " + kid + "): the secret has " +
                             std::to_string(secret.size()) + " bytes; at least 32 are needed");
    if (!ring->keys_.emplace(kid, std::move(secret)).second)
      return InvalidArgument(at + ": kid " + kid + " appears twice");
  }
  if (ring->keys_.find(active_kid) == ring->keys_.end())
    return InvalidArgument("active_kid '" + active_kid + "' is not one of the keys");
  if (max_ttl_seconds == 0 || max_ttl_seconds > kMaxTtlSeconds)
    return InvalidArgument("max_ttl: expected 1..900 seconds");
  ring->active_kid_ = active_kid;
  ring->max_ttl_ = max_ttl_seconds;
  return ring;
}

IssuedSessionToken SessionTokenKeys::Issue(std::string_view project_id, std::string_view session_id,
                                           std::string_view origin, uint64_t ttl_seconds,
                                           uint64_t now) const {
  IssuedSessionToken out;
  SessionTokenClaims& c = out.claims;
  uint8_t random[16];
  RandomBytes(random, sizeof random);
  static constexpr char kHex[] = "0123456789abcdef";
  c.token_id = "st_";
  for (uint8_t b : random) {
    c.token_id.push_back(kHex[b >> 4]);
    c.token_id.push_back(kHex[b & 15]);
  }
  c.project_id = std::string(project_id);
  c.session_id = std::string(session_id);
  c.origin = std::string(origin);
  c.issued_at = c.not_before = now;
  c.expires_at = now + std::min(ttl_seconds, max_ttl_);

  std::string header = "{\"alg\":\"HS256\",\"kid\":";
  AppendJsonString(&header, active_kid_);
  header += ",\"typ\":\"JWT\"}";
  std::string claims = "{\"iss\":\"m-trace\",\"sub\":";
  AppendJsonString(&claims, c.project_id);
  claims += ",\"aud\":\"playback-events\",\"iat\":" + std::to_string(c.issued_at) +
            ",\"nbf\":" + std::to_string(c.not_before) + ",\"exp\":" + std::to_string(c.expires_at) +
            ",\"jti\":";
  AppendJsonString(&claims, c.token_id);
  if (!c.session_id.empty()) {
    claims += ",\"session_id\":";
    AppendJsonString(&claims, c.session_id);
  }
  if (!c.origin.empty()) {
    claims += ",\"origin\":";
    AppendJsonString(&claims, c.origin);
  }
  claims += "}";
  const std::string signing_input = Base64UrlEncode(header) + "." + Base64UrlEncode(claims);
  out.value = std::string(kPrefix) + signing_input + "." +
              Base64UrlEncode(Sign(keys_.at(active_kid_), signing_input));
  return out;
}

Result<SessionTokenClaims> SessionTokenKeys::Verify(std::string_view token, uint64_t now) const {
  if (token.substr(0, kPrefix.size()) != kPrefix) return Unauthenticated("malformed");
  token.remove_prefix(kPrefix.size());
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return Unauthenticated("malformed");
  std::string header, claims, sig;
  if (!Base64UrlDecode(token.substr(0, dot1), &header) ||
      !Base64UrlDecode(token.substr(dot1 + 1, dot2 - dot1 - 1), &claims) ||
      !Base64UrlDecode(token.substr(dot2 + 1), &sig))
    return Unauthenticated("malformed");

  simdjson::dom::parser parser;
  simdjson::dom::object h;
  if (parser.parse(header).get(h) != simdjson::SUCCESS) return Unauthenticated("malformed");
  std::string_view alg, kid;
  if (h["alg"].get(alg) != simdjson::SUCCESS || alg != "HS256") return Unauthenticated("malformed");
  if (h["kid"].get(kid) != simdjson::SUCCESS) return Unauthenticated("malformed");
  auto key = keys_.find(kid);
  if (key == keys_.end()) return Unauthenticated("unknown key");
  const std::string expected = Sign(key->second, token.substr(0, dot2));
  if (sig.size() != expected.size() || CRYPTO_memcmp(sig.data(), expected.data(), sig.size()) != 0)
    return Unauthenticated("bad signature");

  simdjson::dom::parser claims_parser;
  simdjson::dom::object c;
  if (claims_parser.parse(claims).get(c) != simdjson::SUCCESS) return Unauthenticated("malformed");
  SessionTokenClaims out;
  std::string_view iss, aud, sub, jti;
  if (c["iss"].get(iss) != simdjson::SUCCESS || iss != kIssuer ||
      c["aud"].get(aud) != simdjson::SUCCESS || aud != kAudience)
    return Unauthenticated("wrong issuer or audience");
  if (c["sub"].get(sub) != simdjson::SUCCESS || sub.empty() ||
      c["jti"].get(jti) != simdjson::SUCCESS ||
      c["iat"].get(out.issued_at) != simdjson::SUCCESS ||
      c["nbf"].get(out.not_before) != simdjson::SUCCESS ||
      c["exp"].get(out.expires_at) != simdjson::SUCCESS)
    return Unauthenticated("malformed");
  out.project_id = std::string(sub);
  out.token_id = std::string(jti);
  std::string_view optional;
  if (c["session_id"].get(optional) == simdjson::SUCCESS) out.session_id = std::string(optional);
  if (c["origin"].get(optional) == simdjson::SUCCESS) out.origin = std::string(optional);
  if (out.expires_at < out.not_before || out.expires_at - out.not_before > max_ttl_)
    return Unauthenticated("lifetime over max_ttl");
  if (now < out.not_before) return Unauthenticated("not yet valid");
  if (now >= out.expires_at) return Unauthenticated("expired");
  return out;
}

}  // namespace avtrace::player
