#include "analyzer/fetch/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>

namespace avtrace::analyzer::fetch {
namespace {

struct V4Range {
  uint32_t base;
  int prefix;
  std::string_view name;
};

constexpr uint32_t Ip4(uint32_t a, uint32_t b, uint32_t c, uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// Order matters only for naming: the broadcast address is named before 240/4 contains it.
constexpr V4Range kV4Blocked[] = {
    {Ip4(255, 255, 255, 255), 32, "broadcast 255.255.255.255/32"},
    {Ip4(0, 0, 0, 0), 8, "unspecified/this-network 0.0.0.0/8"},
    {Ip4(10, 0, 0, 0), 8, "private 10.0.0.0/8"},
    {Ip4(100, 64, 0, 0), 10, "CGNAT shared 100.64.0.0/10"},
    {Ip4(127, 0, 0, 0), 8, "loopback 127.0.0.0/8"},
    {Ip4(169, 254, 0, 0), 16, "link-local 169.254.0.0/16"},
    {Ip4(172, 16, 0, 0), 12, "private 172.16.0.0/12"},
    {Ip4(192, 0, 0, 0), 24, "IETF protocol assignments 192.0.0.0/24"},
    {Ip4(192, 0, 2, 0), 24, "documentation 192.0.2.0/24"},
    {Ip4(192, 88, 99, 0), 24, "6to4 relay anycast 192.88.99.0/24"},
    {Ip4(192, 168, 0, 0), 16, "private 192.168.0.0/16"},
    {Ip4(198, 18, 0, 0), 15, "benchmarking 198.18.0.0/15"},
    {Ip4(198, 51, 100, 0), 24, "documentation 198.51.100.0/24"},
    {Ip4(203, 0, 113, 0), 24, "documentation 203.0.113.0/24"},
    {Ip4(224, 0, 0, 0), 4, "multicast 224.0.0.0/4"},
    {Ip4(240, 0, 0, 0), 4, "reserved 240.0.0.0/4"},
};

std::string BlockedV4(uint32_t v) {
  for (const auto& r : kV4Blocked) {
    uint32_t mask = r.prefix == 0 ? 0 : ~uint32_t{0} << (32 - r.prefix);
    if ((v & mask) == r.base) return std::string(r.name);
  }
  return {};
}

uint32_t Load32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// True when the first `bits` bits of `a` equal those of `prefix` (given as 16 bytes).
bool InPrefix(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& prefix, int bits) {
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), prefix.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[full] & mask) == (prefix[full] & mask);
}

struct V6Range {
  std::array<uint8_t, 16> prefix;
  int bits;
  std::string_view name;
};

// Wholly blocked IPv6 ranges (the embedding forms are handled before these).
const V6Range kV6Blocked[] = {
    {{0x01, 0x00}, 64, "discard-only 100::/64"},
    {{0x00, 0x64, 0xff, 0x9b, 0x00, 0x01}, 48, "local-use NAT64 64:ff9b:1::/48"},
    {{0x20, 0x01, 0x00, 0x02}, 48, "benchmarking 2001:2::/48"},
    {{0x20, 0x01, 0x00, 0x10}, 28, "ORCHID 2001:10::/28"},
    {{0x20, 0x01, 0x00, 0x20}, 28, "ORCHIDv2 2001:20::/28"},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation 2001:db8::/32"},
    {{0x3f, 0xff}, 20, "documentation 3fff::/20"},
    {{0xfc}, 7, "unique local fc00::/7"},
    {{0xfe, 0x80}, 10, "link-local fe80::/10"},
    {{0xfe, 0xc0}, 10, "site-local fec0::/10"},
    {{0xff}, 8, "multicast ff00::/8"},
};

std::string Embedded(std::string_view form, uint32_t v4) {
  std::string inner = BlockedV4(v4);
  if (inner.empty()) return {};
  return std::string(form) + " -> " + inner;
}

}  // namespace

std::optional<IpAddress> ParseIpLiteral(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']')
    text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > 64) return std::nullopt;
  std::string s(text);
  IpAddress ip;
  if (s.find(':') != std::string::npos) {
    in6_addr a6;
    if (inet_pton(AF_INET6, s.c_str(), &a6) != 1) return std::nullopt;
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &a6, 16);
    return ip;
  }
  // Strict dotted quad: inet_pton(AF_INET) already refuses "127.1", "0x7f.0.0.1" and octal
  // forms; leading zeros ("010.0.0.1") are refused here because some stacks read them as octal.
  int octets = 0;
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find('.', i);
    if (j == std::string::npos) j = s.size();
    if (j - i > 1 && s[i] == '0') return std::nullopt;
    ++octets;
    i = j + 1;
    if (j == s.size()) break;
  }
  if (octets != 4) return std::nullopt;
  in_addr a4;
  if (inet_pton(AF_INET, s.c_str(), &a4) != 1) return std::nullopt;
  std::memcpy(ip.bytes.data(), &a4, 4);
  return ip;
}

std::optional<IpAddress> FromSockaddr(const sockaddr* addr) {
  if (addr == nullptr) return std::nullopt;
  IpAddress ip;
  if (addr->sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, addr, sizeof in);
    std::memcpy(ip.bytes.data(), &in.sin_addr, 4);
    return ip;
  }
  if (addr->sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, addr, sizeof in6);
    ip.v6 = true;
    std::memcpy(ip.bytes.data(), &in6.sin6_addr, 16);
    return ip;
  }
  return std::nullopt;
}

std::string FormatIp(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(ip.v6 ? AF_INET6 : AF_INET, ip.bytes.data(), buf, sizeof buf);
  return buf;
}

std::string BlockedRange(const IpAddress& ip) {
  if (!ip.v6) return BlockedV4(Load32(ip.bytes.data()));
  const auto& b = ip.bytes;
  static constexpr std::array<uint8_t, 16> kZero{};
  if (b == kZero) return "unspecified ::/128";
  std::array<uint8_t, 16> loop{};
  loop[15] = 1;
  if (b == loop) return "loopback ::1/128";
  uint32_t last = Load32(b.data() + 12);
  if (InPrefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, 96))
    return Embedded("IPv4-mapped ::ffff:0:0/96", last);
  if (InPrefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0}, 96))
    return Embedded("IPv4-translated ::ffff:0:0:0/96", last);
  if (InPrefix(b, kZero, 96)) return Embedded("IPv4-compatible ::/96", last);
  if (InPrefix(b, {0x00, 0x64, 0xff, 0x9b}, 96)) return Embedded("NAT64 64:ff9b::/96", last);
  if (InPrefix(b, {0x20, 0x02}, 16)) return Embedded("6to4 2002::/16", Load32(b.data() + 2));
  if (InPrefix(b, {0x20, 0x01, 0x00, 0x00}, 32)) {
    // Teredo carries the server's IPv4 in bits 32-63 and the client's, inverted, in 96-127.
    std::string server = Embedded("Teredo 2001::/32 server", Load32(b.data() + 4));
    if (!server.empty()) return server;
    return Embedded("Teredo 2001::/32 client", ~last);
  }
  for (const auto& r : kV6Blocked)
    if (InPrefix(b, r.prefix, r.bits)) return std::string(r.name);
  return {};
}

bool InCidr(const IpAddress& ip, const IpAddress& base, int prefix) {
  if (ip.v6 != base.v6 || prefix < 0 || prefix > (ip.v6 ? 128 : 32)) return false;
  return InPrefix(ip.bytes, base.bytes, prefix);
}

}  // namespace avtrace::analyzer::fetch
