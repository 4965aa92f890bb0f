#pragma once
// The fetcher's address policy: which IP addresses a check may connect to.
//
// BlockedRange() names the special-purpose range (RFC 6890 and successors) an address falls in,
// or returns an empty view for a globally routable unicast address. IPv6 forms that embed an
// IPv4 address (IPv4-mapped ::ffff:0:0/96, IPv4-translated ::ffff:0:0:0/96, IPv4-compatible
// ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by the IPv4 address
// they carry, so that ::ffff:127.0.0.1 or 2002:7f00:1:: cannot smuggle loopback past the list.
//
// Threads: pure functions. Errors: ParseIpLiteral returns nullopt for anything that is not a
// strict dotted quad (no leading zeros, no short or numeric forms) or an inet_pton IPv6 literal.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace avtrace::analyzer::fetch {

struct IpAddress {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};  // IPv4: the first 4 bytes, network order

  static IpAddress V4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    IpAddress ip;
    ip.bytes = {a, b, c, d};
    return ip;
  }
  bool operator==(const IpAddress&) const = default;
};

// "192.0.2.1", "::1", "[::1]" (brackets allowed). See above for what is rejected.
std::optional<IpAddress> ParseIpLiteral(std::string_view text);
// nullopt for families other than AF_INET / AF_INET6.
std::optional<IpAddress> FromSockaddr(const sockaddr* addr);
// "192.0.2.1" / "2001:db8::1" (inet_ntop form, no brackets).
std::string FormatIp(const IpAddress& ip);

// Empty when `ip` may be fetched from; otherwise the range's name, e.g. "loopback 127.0.0.0/8"
// or "IPv4-mapped ::ffff:0:0/96 -> private 10.0.0.0/8".
std::string BlockedRange(const IpAddress& ip);

// True when `ip` is in base/prefix (same family only; an IPv4-mapped address is not unwrapped).
bool InCidr(const IpAddress& ip, const IpAddress& base, int prefix);

}  // namespace avtrace::analyzer::fetch
