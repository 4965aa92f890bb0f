#include "analyzer/fetch/fetcher.h"

#include <curl/curl.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <vector>

#include "analyzer/fetch/address.h"
#include "analyzer/fetch/resolve.h"

namespace avtrace::analyzer::fetch {
namespace {

using SteadyClock = std::chrono::steady_clock;

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// What one hop may connect to: the host as curl will look it up, and the checked address.
struct Target {
  std::string scheme, host, port;
  IpAddress pinned;
  bool host_is_literal = false;
};

std::string CurlUrlPart(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* p = nullptr;
  if (curl_url_get(u, part, &p, flags) != CURLUE_OK || p == nullptr) return {};
  std::string s(p);
  curl_free(p);
  return s;
}

// Empty when `ip` may be connected to under `o`; otherwise why not.
std::string Refusal(const IpAddress& ip, const FetchOptions& o) {
  for (const auto& [base, prefix] : o.extra_blocked)
    if (InCidr(ip, base, prefix))
      return "configured block " + FormatIp(base) + "/" + std::to_string(prefix);
  return o.allow_private ? std::string() : BlockedRange(ip);
}

// `dns_timeout` bounds the host name lookup (resolve.h).
Result<Target> CheckTarget(const std::string& url, const FetchOptions& options,
                           std::chrono::milliseconds dns_timeout) {
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u) return Internal("curl_url failed");
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return InvalidArgument("not a valid absolute URL: " + url);
  Target t;
  t.scheme = CurlUrlPart(u.get(), CURLUPART_SCHEME);
  if (t.scheme != "http" && t.scheme != "https")
    return InvalidArgument("only http and https URLs may be fetched, not '" + t.scheme + "'");
  if (!CurlUrlPart(u.get(), CURLUPART_USER).empty() ||
      !CurlUrlPart(u.get(), CURLUPART_PASSWORD).empty())
    return InvalidArgument("URLs with credentials (user@host) are refused: " + url);
  t.host = CurlUrlPart(u.get(), CURLUPART_HOST);
  if (t.host.empty()) return InvalidArgument("URL has no host: " + url);
  t.port = CurlUrlPart(u.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  std::string lookup = t.host;
  if (lookup.size() > 2 && lookup.front() == '[') {
    // An IPv6 literal; a zone id ("%25eth0") only makes sense for link-local, which is blocked.
    lookup = lookup.substr(1, lookup.size() - 2);
    if (lookup.find('%') != std::string::npos)
      return Status(StatusCode::kPermissionDenied, "IPv6 zone ids are refused: " + t.host);
  }
  if (auto literal = ParseIpLiteral(lookup)) {
    t.host_is_literal = true;
    t.pinned = *literal;
    std::string why = Refusal(*literal, options);
    if (!why.empty())
      return Status(StatusCode::kPermissionDenied,
                    t.host + " is in a blocked address range (" + why + ")");
    return t;
  }
  ASSIGN_OR_RETURN(std::vector<IpAddress> addresses,
                   ResolveWithDeadline(options.resolver, lookup, dns_timeout));
  std::optional<IpAddress> first;
  for (const IpAddress& ip : addresses) {
    // Every address is checked, not just the one we would use: a name with one public and one
    // private address is refused as a whole.
    std::string why = Refusal(ip, options);
    if (!why.empty())
      return Status(StatusCode::kPermissionDenied, t.host + " resolves to " + FormatIp(ip) +
                                                       ", which is blocked (" + why + ")");
    if (!first) first = ip;
  }
  if (!first) return Unavailable("no IPv4/IPv6 address for " + t.host);
  t.pinned = *first;
  return t;
}

}  // namespace

struct CurlFetcher::Impl {
  CURL* curl = nullptr;
  curl_slist* resolve = nullptr;
  // Per-hop state the callbacks see.
  IpAddress pinned;
  bool refused_socket = false;
  std::string refused_reason;
  const FetchOptions* options = nullptr;
  uint64_t* connections = nullptr;
  std::string* body = nullptr;
  size_t max_bytes = 0;
  bool too_large = false;
  bool checked_type = false;
  bool type_rejected = false;
  FetchKind kind = FetchKind::kManifest;

  ~Impl() {
    if (resolve) curl_slist_free_all(resolve);
    if (curl) curl_easy_cleanup(curl);
  }

  static curl_socket_t OpenSocket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
    auto* self = static_cast<Impl*>(clientp);
    if (purpose != CURLSOCKTYPE_IPCXN) return CURL_SOCKET_BAD;
    auto ip = FromSockaddr(&address->addr);
    // The address curl is about to connect to must be the one that was checked and pinned.
    if (!ip || !(*ip == self->pinned)) {
      self->refused_socket = true;
      self->refused_reason = "connection to " + (ip ? FormatIp(*ip) : std::string("?")) +
                             " is not the checked address " + FormatIp(self->pinned);
      return CURL_SOCKET_BAD;
    }
    std::string why = Refusal(*ip, *self->options);
    if (!why.empty()) {
      self->refused_socket = true;
      self->refused_reason = FormatIp(*ip) + " is blocked (" + why + ")";
      return CURL_SOCKET_BAD;
    }
    ++*self->connections;
    return socket(address->family, address->socktype, address->protocol);
  }

  // Non-zero aborts the transfer (CURLE_ABORTED_BY_CALLBACK) once the cancel flag is up.
  static int Progress(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<const std::atomic<bool>*>(clientp)->load() ? 1 : 0;
  }

  static size_t Write(char* data, size_t size, size_t n, void* userp) {
    auto* self = static_cast<Impl*>(userp);
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(self->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code < 200 || code >= 300) return len;  // redirect and error bodies are discarded
    if (!self->checked_type) {
      self->checked_type = true;
      char* ct = nullptr;
      curl_easy_getinfo(self->curl, CURLINFO_CONTENT_TYPE, &ct);
      if (ClassifyContentType(self->kind, ct ? ct : "", ct != nullptr) == TypeVerdict::kRejected) {
        self->type_rejected = true;
        return 0;
      }
    }
    if (self->body->size() + len > self->max_bytes) {
      self->too_large = true;
      return 0;
    }
    self->body->append(data, len);
    return len;
  }
};

CurlFetcher::CurlFetcher(FetchOptions options) : options_(std::move(options)) {
  GlobalInitOnce();
  impl_ = std::make_unique<Impl>();
  impl_->curl = curl_easy_init();
  impl_->connections = &connections_opened_;
}

CurlFetcher::~CurlFetcher() = default;

Result<FetchResponse> CurlFetcher::Fetch(std::string_view url_in, FetchKind kind,
                                         std::string_view range) {
  Impl& im = *impl_;
  CURL* c = im.curl;
  if (c == nullptr) return Internal("curl_easy_init failed");
  const auto start = SteadyClock::now();
  const auto deadline =
      start + std::chrono::duration_cast<SteadyClock::duration>(
                  std::chrono::duration<double>(options_.total_timeout_seconds));
  const size_t max_bytes =
      kind == FetchKind::kManifest ? options_.max_manifest_bytes : options_.max_segment_bytes;
  std::string url(url_in);
  std::string range_str(range);
  FetchResponse out;
  for (int hop = 0;; ++hop) {
    if (hop > options_.max_redirects)
      return FailedPrecondition("more than " + std::to_string(options_.max_redirects) +
                                " redirects, last to " + url);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) return DeadlineExceeded("time limit reached before fetching " + url);
    // Name resolution is part of connecting (as in curl's CURLOPT_CONNECTTIMEOUT), so it gets
    // at most the connect timeout, and never more than what is left of the call's time limit.
    auto dns_timeout = std::min(
        left, std::chrono::milliseconds(static_cast<int64_t>(options_.connect_timeout_seconds * 1000)));
    ASSIGN_OR_RETURN(Target t, CheckTarget(url, options_, dns_timeout));
    auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
                         deadline - SteadyClock::now()).count();
    if (remaining <= 0) return DeadlineExceeded("time limit reached before fetching " + url);

    // Pin: replace any earlier entry for host:port with the address just checked.
    if (im.resolve) curl_slist_free_all(im.resolve);
    im.resolve = nullptr;
    if (!t.host_is_literal) {
      std::string addr = FormatIp(t.pinned);
      if (t.pinned.v6) addr = "[" + addr + "]";
      std::string hostport = t.host + ":" + t.port;
      im.resolve = curl_slist_append(im.resolve, ("-" + hostport).c_str());
      im.resolve = curl_slist_append(im.resolve, (hostport + ":" + addr).c_str());
    }
    im.pinned = t.pinned;
    im.options = &options_;
    im.refused_socket = false;
    im.refused_reason.clear();
    im.body = &out.body;
    out.body.clear();
    im.max_bytes = max_bytes;
    im.too_large = im.checked_type = im.type_rejected = false;
    im.kind = kind;

    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_PROXY, "");  // ignore http_proxy & co.
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_RESOLVE, im.resolve);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, &Impl::OpenSocket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &im);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::Write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &im);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min<double>(static_cast<double>(remaining),
                                                        options_.connect_timeout_seconds * 1000)));
    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(max_bytes));
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // the size limit counts decoded bytes
    curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_RANGE, range_str.empty() ? nullptr : range_str.c_str());
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (options_.cancel) {
      curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &Impl::Progress);
      curl_easy_setopt(c, CURLOPT_XFERINFODATA, options_.cancel);
      curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    }
    if (options_.cancel && options_.cancel->load()) return Unavailable(url + ": cancelled");

    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_ABORTED_BY_CALLBACK) return Unavailable(url + ": cancelled");
    if (im.refused_socket)
      return Status(StatusCode::kPermissionDenied, url + ": " + im.refused_reason);
    if (im.type_rejected) {
      char* ct = nullptr;
      curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
      return Status(StatusCode::kUnsupportedMediaType,
                    url + " has Content-Type '" + (ct ? ct : "") + "', not a " +
                        (kind == FetchKind::kManifest ? "manifest" : "segment") + " type");
    }
    if (im.too_large || rc == CURLE_FILESIZE_EXCEEDED)
      return PayloadTooLarge(url + " is larger than " + std::to_string(max_bytes) + " bytes");
    if (rc == CURLE_OPERATION_TIMEDOUT)
      return DeadlineExceeded(url + ": timed out (" + curl_easy_strerror(rc) + ")");
    if (rc != CURLE_OK) return Unavailable(url + ": " + curl_easy_strerror(rc));

    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 300 && code < 400) {
      char* loc = nullptr;
      curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
      if (loc == nullptr) return Unavailable(url + ": HTTP " + std::to_string(code) + " without Location");
      url = loc;
      ++out.redirects;
      continue;
    }
    if (code == 404 || code == 410) return NotFound(url + ": HTTP " + std::to_string(code));
    if (code < 200 || code >= 300) return Unavailable(url + ": HTTP " + std::to_string(code));

    char* ct = nullptr;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    TypeVerdict verdict = ClassifyContentType(kind, ct ? ct : "", ct != nullptr);
    if (verdict == TypeVerdict::kRejected)  // an empty body never reached the write callback
      return Status(StatusCode::kUnsupportedMediaType,
                    url + " has Content-Type '" + (ct ? ct : "") + "'");
    out.content_type = ct ? MediaType(ct) : "";
    out.content_type_tolerated = verdict == TypeVerdict::kTolerated;
    out.status = code;
    out.url = url;
    out.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    return out;
  }
}

}  // namespace avtrace::analyzer::fetch
