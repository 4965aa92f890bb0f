#pragma once
// The analyzer's HTTP(S) client, built to be pointed at URLs that strangers type in.
//
// Fetcher is the interface the crawler and the live monitor use (tests substitute fakes);
// CurlFetcher is the one implementation, on libcurl. For every request, and again on every
// redirect hop, CurlFetcher:
//   1. parses the URL with libcurl's own URL parser (no parser mismatch), accepts only http and
//      https, and refuses user:password@ credentials and empty hosts;
//   2. resolves the host itself (getaddrinfo on a helper thread, bounded by the connect timeout
//      and what is left of total_timeout: fetch/resolve.h) and refuses the request if ANY
//      resolved address is in a blocked range (fetch/address.h: private, loopback, link-local, multicast, CGNAT,
//      documentation, benchmarking, reserved, ULA, and IPv6 forms embedding such IPv4);
//   3. PINS the checked address for the connection (CURLOPT_RESOLVE) and verifies, in libcurl's
//      open-socket callback, that the address actually connected to is the pinned one, so DNS
//      rebinding between check and connect is impossible (m-trace's documented gap);
//   4. follows redirects itself (CURLOPT_FOLLOWLOCATION off, at most max_redirects hops), so
//      steps 1-3 run on every Location;
//   5. bounds the whole call (all hops) by total_timeout, each connect by connect_timeout, and
//      the body by the kind's size limit (Content-Length first, then the write callback aborts);
//   6. checks Content-Type per kind (fetch/content_type.h) before reading the body.
// Environment proxies are ignored. One curl easy handle lives as long as the CurlFetcher, so a
// crawl reuses its keep-alive connections (m-trace opened one connection per manifest).
//
// allow_private lifts ONLY step 2's range block (for labs and tests on 127.0.0.1); schemes,
// pinning, limits and types still apply. It is a command-line switch of `avtrace check`. The
// server must never set it from anything a client sends (request body, query, header): a
// server-side probe takes it from the server's own configuration only.
//
// A hung resolver cannot block the caller: the lookup is abandoned at its deadline
// (DeadlineExceeded "DNS resolution of <host> timed out after N ms"), and at most
// kMaxOutstandingLookups abandoned lookups may still be running process-wide before further
// ones fail at once (Unavailable).
//
// Threads: a CurlFetcher is not thread-safe (one curl handle); use one per thread. Errors, as
// Status codes: InvalidArgument (bad URL, scheme, credentials), PermissionDenied (blocked
// address), NotFound (HTTP 404/410), Unavailable (other HTTP errors, connect/DNS failure),
// DeadlineExceeded (timeout), PayloadTooLarge (size limit), UnsupportedMediaType (Content-Type),
// FailedPrecondition (too many redirects), Internal (curl could not be set up).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <utility>
#include <vector>

#include "analyzer/fetch/address.h"
#include "analyzer/fetch/content_type.h"
#include "analyzer/fetch/resolve.h"
#include "core/status.h"

namespace avtrace::analyzer::fetch {

struct FetchOptions {
  bool allow_private = false;  // CLI only; see above
  // Blocked in addition to the built-in ranges, even with allow_private (e.g. the server's own
  // public addresses): {base address, prefix length}.
  std::vector<std::pair<IpAddress, int>> extra_blocked;
  double connect_timeout_seconds = 5;
  double total_timeout_seconds = 10;  // per Fetch() call, all redirect hops together
  size_t max_manifest_bytes = 8u << 20;
  size_t max_segment_bytes = 32u << 20;
  int max_redirects = 5;
  std::string user_agent = "avtrace-check";
  // Host name lookup (blocking; run under a deadline, see resolve.h). Empty: getaddrinfo.
  // Tests inject names and hung resolvers here.
  Resolver resolver;
  // When set and true, a transfer in progress is aborted (within ~a second: curl's progress
  // callback) and the call returns Unavailable("... cancelled"). The server's probes set it on
  // shutdown; it must outlive the fetcher.
  const std::atomic<bool>* cancel = nullptr;
};

struct FetchResponse {
  std::string url;           // final URL after redirects: the base for relative references
  long status = 0;           // 200 or 206
  std::string content_type;  // media type (lower case, no parameters); "" when absent
  bool content_type_tolerated = false;  // generic or missing type (report it, go on)
  std::string body;
  int redirects = 0;
  double seconds = 0;  // wall time of the whole call
};

class Fetcher {
 public:
  virtual ~Fetcher() = default;
  // `range` is an HTTP byte range without the unit ("0-1023"), or empty for the whole resource.
  virtual Result<FetchResponse> Fetch(std::string_view url, FetchKind kind,
                                      std::string_view range = {}) = 0;
};

class CurlFetcher final : public Fetcher {
 public:
  explicit CurlFetcher(FetchOptions options);
  ~CurlFetcher() override;
  CurlFetcher(const CurlFetcher&) = delete;
  CurlFetcher& operator=(const CurlFetcher&) = delete;

  Result<FetchResponse> Fetch(std::string_view url, FetchKind kind,
                              std::string_view range = {}) override;

  // TCP connections opened so far (a crawl of one host should open one).
  uint64_t connections_opened() const { return connections_opened_; }

 private:
  struct Impl;
  FetchOptions options_;
  std::unique_ptr<Impl> impl_;
  uint64_t connections_opened_ = 0;
};

}  // namespace avtrace::analyzer::fetch
