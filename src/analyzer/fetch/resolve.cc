#include "analyzer/fetch/resolve.h"

#include <netdb.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

namespace avtrace::analyzer::fetch {
namespace {

std::atomic<int> g_outstanding{0};

// Shared by the caller and the helper thread; whichever lets go last frees it.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  std::optional<Result<std::vector<IpAddress>>> result;
};

}  // namespace

Result<std::vector<IpAddress>> SystemResolve(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0 || res == nullptr)
    return Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(res, freeaddrinfo);
  std::vector<IpAddress> out;
  for (addrinfo* a = res; a != nullptr; a = a->ai_next)
    if (auto ip = FromSockaddr(a->ai_addr)) out.push_back(*ip);
  return out;
}

Result<std::vector<IpAddress>> ResolveWithDeadline(const Resolver& resolver,
                                                   const std::string& host,
                                                   std::chrono::milliseconds timeout) {
  if (g_outstanding.fetch_add(1) >= kMaxOutstandingLookups) {
    g_outstanding.fetch_sub(1);
    return Unavailable("DNS resolution of " + host + " refused: " +
                       std::to_string(kMaxOutstandingLookups) +
                       " earlier lookups have not finished (is the resolver answering?)");
  }
  auto pending = std::make_shared<Pending>();
  Resolver resolve = resolver ? resolver : Resolver(&SystemResolve);
  try {
    std::thread([pending, resolve = std::move(resolve), host] {
      Result<std::vector<IpAddress>> r = resolve(host);
      // Counted off before the answer is published, so a caller that got its answer never
      // sees its own lookup as outstanding.
      g_outstanding.fetch_sub(1);
      {
        std::lock_guard<std::mutex> lock(pending->mu);
        pending->result.emplace(std::move(r));
      }
      pending->cv.notify_all();
    }).detach();
  } catch (const std::system_error& e) {
    g_outstanding.fetch_sub(1);
    return Unavailable("DNS resolution of " + host + ": cannot start a lookup thread (" +
                       e.what() + ")");
  }
  std::unique_lock<std::mutex> lock(pending->mu);
  if (!pending->cv.wait_for(lock, timeout, [&] { return pending->result.has_value(); }))
    return DeadlineExceeded("DNS resolution of " + host + " timed out after " +
                            std::to_string(timeout.count()) + " ms");
  return std::move(*pending->result);
}

int OutstandingLookups() { return g_outstanding.load(); }

}  // namespace avtrace::analyzer::fetch
