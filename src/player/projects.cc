#include "player/projects.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>

namespace avtrace::player {
namespace {

constexpr std::string_view kVary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers";

bool ValidProjectId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ParseHexDigest(std::string_view hex, Sha256Digest* out) {
  if (hex.size() != 64) return false;
  for (size_t i = 0; i < 32; ++i) {
    auto v = [](char c) {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = v(hex[2 * i]), lo = v(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    (*out)[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return d;
}

std::string TokenFingerprint(std::string_view token) {
  static constexpr char kHex[] = "0123456789abcdef";
  Sha256Digest d = Sha256(token);
  std::string hex;
  for (uint8_t b : d) {
    hex.push_back(kHex[b >> 4]);
    hex.push_back(kHex[b & 15]);
  }
  return hex.substr(0, 8) + "..." + hex.substr(hex.size() - 4);
}

bool Project::IsOriginAllowed(std::string_view origin) const {
  if (origin.empty()) return true;  // CLI, curl, server-to-server: m-trace allows these
  for (const auto& o : allowed_origins)
    if (o == origin) return true;
  return false;
}

Result<std::unique_ptr<ProjectRegistry>> ProjectRegistry::Create(const ProjectsConfig& config) {
  auto reg = std::unique_ptr<ProjectRegistry>(new ProjectRegistry());
  std::vector<ProjectConfig> projects = config.projects;
  if (projects.empty()) {
    reg->lab_mode_ = true;
    projects.push_back(
        {"demo", {"demo-token"}, {}, {"http://localhost:5173", "http://localhost:3000"}});
  }
  for (const auto& p : projects) {
    if (!ValidProjectId(p.id)) {
      return InvalidArgument("projects: invalid project id '" + p.id +
                             "' (want 1..64 of [A-Za-z0-9._-])");
    }
    if (reg->FindById(p.id) != nullptr) {
      return InvalidArgument("projects: duplicate project id '" + p.id + "'");
    }
    if (p.tokens.empty() && p.token_sha256.empty()) {
      return InvalidArgument("projects: project '" + p.id + "' has no token");
    }
    size_t index = reg->projects_.size();
    for (const auto& t : p.tokens) {
      if (t.empty()) return InvalidArgument("projects: project '" + p.id + "' has an empty token");
      reg->tokens_.push_back({Sha256(t), index});
    }
    for (const auto& h : p.token_sha256) {
      Sha256Digest d;
      if (!ParseHexDigest(h, &d)) {
        return InvalidArgument("projects: project '" + p.id +
                               "': token_sha256 must be 64 hex characters");
      }
      reg->tokens_.push_back({d, index});
    }
    for (const auto& o : p.allowed_origins) {
      if (o.empty() || o == "*" || o.back() == '/') {
        return InvalidArgument("projects: project '" + p.id + "': origin '" + o +
                               "' must be an exact scheme://host[:port]");
      }
      if (std::find(reg->origin_union_.begin(), reg->origin_union_.end(), o) ==
          reg->origin_union_.end())
        reg->origin_union_.push_back(o);
    }
    reg->projects_.push_back({p.id, p.allowed_origins});
  }
  // Two projects sharing a token would make the binding ambiguous.
  for (size_t i = 0; i < reg->tokens_.size(); ++i)
    for (size_t j = i + 1; j < reg->tokens_.size(); ++j)
      if (reg->tokens_[i].digest == reg->tokens_[j].digest &&
          reg->tokens_[i].project_index != reg->tokens_[j].project_index)
        return InvalidArgument("projects: two projects share a token");
  return reg;
}

const Project* ProjectRegistry::ResolveToken(std::string_view token) const {
  if (token.empty()) return nullptr;
  Sha256Digest d = Sha256(token);
  // Compare against every entry, without an early exit, so timing says nothing about which.
  size_t found = projects_.size();
  for (const auto& e : tokens_) {
    bool eq = CRYPTO_memcmp(d.data(), e.digest.data(), d.size()) == 0;
    found = eq ? e.project_index : found;
  }
  return found < projects_.size() ? &projects_[found] : nullptr;
}

const Project* ProjectRegistry::FindById(std::string_view project_id) const {
  for (const auto& p : projects_)
    if (p.id == project_id) return &p;
  return nullptr;
}

bool ProjectRegistry::IsKnownOrigin(std::string_view origin) const {
  if (origin.empty()) return false;
  for (const auto& o : origin_union_)
    if (o == origin) return true;
  return false;
}

HeaderList ProjectRegistry::CorsHeaders(std::string_view origin) const {
  HeaderList h;
  h.emplace_back("Vary", std::string(kVary));
  if (IsKnownOrigin(origin)) h.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  return h;
}

HeaderList ProjectRegistry::Preflight(CorsGroup group, std::string_view origin,
                                      bool* refused) const {
  HeaderList h;
  h.emplace_back("Vary", std::string(kVary));
  *refused = false;
  if (!IsKnownOrigin(origin)) {
    *refused = !origin.empty();
    return h;
  }
  const char* methods = "POST, OPTIONS";
  const char* headers =
      "Content-Type, Authorization, X-MTrace-Token, X-MTrace-Session-Token, traceparent";
  switch (group) {
    case CorsGroup::kPlayer: break;
    case CorsGroup::kDashboard:
      methods = "GET, OPTIONS";
      headers = "Content-Type, X-MTrace-Project, X-MTrace-Token";
      break;
    case CorsGroup::kSse:
      methods = "GET, OPTIONS";
      headers = "Content-Type, X-MTrace-Project, X-MTrace-Token, Last-Event-ID";
      break;
    case CorsGroup::kCmcd:
      methods = "GET, POST, OPTIONS";
      headers = "Content-Type, X-MTrace-Token, CMCD-Request, CMCD-Object, CMCD-Status, "
                "CMCD-Session";
      break;
  }
  h.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  h.emplace_back("Access-Control-Allow-Methods", methods);
  h.emplace_back("Access-Control-Allow-Headers", headers);
  h.emplace_back("Access-Control-Max-Age", "600");
  h.emplace_back("Cache-Control", "no-store");
  return h;
}

}  // namespace avtrace::player
