#pragma once
// Host name resolution with a deadline, for CurlFetcher (fetcher.h, step 2).
//
// getaddrinfo has no timeout of its own: a slow or dead DNS server (resolv.conf timeout x
// attempts x servers) or a wedged NSS module blocks the caller as long as the system resolver
// likes, possibly forever. ResolveWithDeadline runs the blocking lookup on a helper thread and
// waits for it at most `timeout`; a lookup that outlives its deadline finishes in its thread and
// its answer is thrown away.
//
// Why a helper thread rather than glibc's getaddrinfo_a + gai_suspend(timespec):
//  - a request that is already running cannot be cancelled (gai_cancel -> EAI_NOTCANCELED), so
//    the gaicb and its result must be freed by whoever sees it finish: the same ownership problem
//    as here, solved here with one shared state;
//  - getaddrinfo_a queues without limit, so a dead resolver would let lookups pile up. Here the
//    lookups still running, abandoned ones included, are bounded process-wide
//    (kMaxOutstandingLookups): a dead resolver parks at most that many threads, and further
//    lookups fail at once with Unavailable instead of queueing behind it;
//  - the resolver is injectable (FetchOptions::resolver), which tests need to be deterministic.
//
// Threads: ResolveWithDeadline is thread-safe. The Resolver is copied into the helper thread and
// may run after ResolveWithDeadline returned, so it must not refer to anything the caller
// destroys (tests wait for OutstandingLookups() == 0). Errors: DeadlineExceeded ("DNS resolution
// of <host> timed out after N ms"), Unavailable (too many lookups outstanding, no thread, or
// the resolver's own failure), whatever the resolver returns.

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "analyzer/fetch/address.h"
#include "core/status.h"

namespace avtrace::analyzer::fetch {

// Blocking: every address of `host` (no brackets, not an IP literal), or why not.
using Resolver = std::function<Result<std::vector<IpAddress>>(const std::string& host)>;

// getaddrinfo(AF_UNSPEC, SOCK_STREAM): the default Resolver.
Result<std::vector<IpAddress>> SystemResolve(const std::string& host);

// Far above the concurrent fetches of a crawl plus the server's probe workers, so it only bites
// when lookups are piling up behind a resolver that does not answer.
inline constexpr int kMaxOutstandingLookups = 32;

// `resolver` empty means SystemResolve.
Result<std::vector<IpAddress>> ResolveWithDeadline(const Resolver& resolver,
                                                   const std::string& host,
                                                   std::chrono::milliseconds timeout);

// Lookups whose helper thread has not finished yet (for tests and diagnostics).
int OutstandingLookups();

}  // namespace avtrace::analyzer::fetch
