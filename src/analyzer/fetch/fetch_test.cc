// The fetcher's address policy (as a table), Content-Type policy, and CurlFetcher against a
// local server on 127.0.0.1: blocked by default, allowed with allow_private, redirects re-checked
// per hop, size limit, timeout, content type, connection reuse.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "analyzer/fetch/address.h"
#include "analyzer/fetch/content_type.h"
#include "analyzer/fetch/fetcher.h"
#include "analyzer/fetch/resolve.h"
#include "analyzer/fetch/test_http_server.h"

namespace avtrace::analyzer::fetch {
namespace {

struct AddressCase {
  const char* ip;
  bool blocked;
  const char* range_contains;  // substring of BlockedRange's name when blocked
};

// Every blocked range with its first and last address, the public neighbours just outside, and
// the IPv6 forms that embed an IPv4 address.
const AddressCase kAddressTable[] = {
    // IPv4 private
    {"10.0.0.0", true, "private 10."}, {"10.255.255.255", true, "private 10."},
    {"9.255.255.255", false, ""}, {"11.0.0.0", false, ""},
    {"172.16.0.0", true, "private 172.16."}, {"172.31.255.255", true, "private 172.16."},
    {"172.15.255.255", false, ""}, {"172.32.0.0", false, ""},
    {"192.168.0.0", true, "private 192.168."}, {"192.168.255.255", true, "private 192.168."},
    {"192.167.255.255", false, ""}, {"192.169.0.0", false, ""},
    // loopback, link-local, unspecified, broadcast
    {"127.0.0.1", true, "loopback"}, {"127.255.255.255", true, "loopback"},
    {"126.255.255.255", false, ""}, {"128.0.0.0", false, ""},
    {"169.254.0.0", true, "link-local"}, {"169.254.169.254", true, "link-local"},
    {"169.253.255.255", false, ""}, {"169.255.0.0", false, ""},
    {"0.0.0.0", true, "unspecified"}, {"0.255.255.255", true, "unspecified"},
    {"1.0.0.0", false, ""},
    {"255.255.255.255", true, "broadcast"},
    // CGNAT, documentation, benchmarking, IETF, 6to4 relay
    {"100.64.0.0", true, "CGNAT"}, {"100.127.255.255", true, "CGNAT"},
    {"100.63.255.255", false, ""}, {"100.128.0.0", false, ""},
    {"192.0.2.0", true, "documentation"}, {"192.0.2.255", true, "documentation"},
    {"198.51.100.7", true, "documentation"}, {"203.0.113.255", true, "documentation"},
    {"203.0.112.255", false, ""}, {"203.0.114.0", false, ""},
    {"198.18.0.0", true, "benchmarking"}, {"198.19.255.255", true, "benchmarking"},
    {"198.17.255.255", false, ""}, {"198.20.0.0", false, ""},
    {"192.0.0.8", true, "IETF"}, {"192.88.99.1", true, "6to4 relay"},
    // multicast, reserved
    {"224.0.0.0", true, "multicast"}, {"239.255.255.255", true, "multicast"},
    {"223.255.255.255", false, ""},
    {"240.0.0.0", true, "reserved"}, {"255.255.255.254", true, "reserved"},
    // public
    {"8.8.8.8", false, ""}, {"93.184.216.34", false, ""},
    // IPv6
    {"::", true, "unspecified"}, {"::1", true, "loopback"},
    {"fe80::", true, "link-local"}, {"febf:ffff::1", true, "link-local"},
    {"fc00::", true, "unique local"}, {"fdff:ffff::1", true, "unique local"},
    {"fbff:ffff::1", false, ""},
    {"ff00::", true, "multicast"}, {"ff02::1", true, "multicast"},
    {"2001:db8::", true, "documentation"}, {"2001:db8:ffff::1", true, "documentation"},
    {"2001:db9::1", false, ""},
    {"100::1", true, "discard"}, {"fec0::1", true, "site-local"},
    {"2606:4700:4700::1111", false, ""}, {"2a00:1450:4001:80b::200e", false, ""},
    // IPv6 embedding IPv4: judged by the IPv4 inside
    {"::ffff:127.0.0.1", true, "IPv4-mapped ::ffff:0:0/96 -> loopback"},
    {"::ffff:10.1.2.3", true, "IPv4-mapped ::ffff:0:0/96 -> private"},
    {"::ffff:169.254.169.254", true, "-> link-local"},
    {"::ffff:8.8.8.8", false, ""},
    {"::ffff:0:7f00:1", true, "IPv4-translated"},
    {"::127.0.0.1", true, "IPv4-compatible ::/96 -> loopback"},
    {"::10.0.0.1", true, "IPv4-compatible ::/96 -> private"},
    {"::8.8.8.8", false, ""},
    {"64:ff9b::7f00:1", true, "NAT64 64:ff9b::/96 -> loopback"},
    {"64:ff9b::c0a8:1", true, "NAT64 64:ff9b::/96 -> private"},
    {"64:ff9b::808:808", false, ""},
    {"64:ff9b:1::1", true, "local-use NAT64"},
    {"2002:7f00:1::", true, "6to4 2002::/16 -> loopback"},
    {"2002:a9fe:a9fe::1", true, "6to4 2002::/16 -> link-local"},
    {"2002:808:808::1", false, ""},
    // Teredo: server 65.54.227.120 (public); client 127.0.0.1 stored inverted (80ff:fffe)
    {"2001:0:4136:e378:8000:63bf:80ff:fffe", true, "Teredo 2001::/32 client -> loopback"},
    {"2001:0:a00:1::", true, "Teredo 2001::/32 server -> private"},
    {"2001:0:4136:e378:8000:63bf:f7f7:f7f7", false, ""},
};

TEST(Address, ClassifierTable) {
  for (const auto& c : kAddressTable) {
    SCOPED_TRACE(c.ip);
    auto ip = ParseIpLiteral(c.ip);
    ASSERT_TRUE(ip.has_value());
    std::string range = BlockedRange(*ip);
    EXPECT_EQ(!range.empty(), c.blocked) << range;
    if (c.blocked) {
      EXPECT_NE(range.find(c.range_contains), std::string::npos) << range;
    }
    auto again = ParseIpLiteral(FormatIp(*ip));
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, *ip);
  }
}

TEST(Address, LiteralParsingIsStrict) {
  for (const char* bad : {"127.1", "0x7f.0.0.1", "2130706433", "010.0.0.1", "1.2.3.4.5", "1.2.3",
                          "256.0.0.1", "", "[]", "::g", "example.com", "1.2.3.4 "}) {
    EXPECT_FALSE(ParseIpLiteral(bad).has_value()) << bad;
  }
  EXPECT_TRUE(ParseIpLiteral("[::1]").has_value());
  EXPECT_TRUE(ParseIpLiteral("0.0.0.0").has_value());
}

TEST(ContentType, MediaTypeAndPolicy) {
  EXPECT_EQ(MediaType("Application/X-MPEGURL; charset=utf-8"), "application/x-mpegurl");
  EXPECT_EQ(MediaType("  video/iso.segment  "), "video/iso.segment");
  EXPECT_EQ(MediaType("text/html garbage"), "");
  EXPECT_EQ(MediaType("/x"), "");
  EXPECT_EQ(MediaType("x/"), "");
  struct {
    FetchKind kind;
    const char* header;
    bool present;
    TypeVerdict want;
  } cases[] = {
      {FetchKind::kManifest, "application/vnd.apple.mpegurl", true, TypeVerdict::kAllowed},
      {FetchKind::kManifest, "audio/mpegurl", true, TypeVerdict::kAllowed},
      {FetchKind::kManifest, "application/x-mpegURL", true, TypeVerdict::kAllowed},
      {FetchKind::kManifest, "application/dash+xml", true, TypeVerdict::kAllowed},
      {FetchKind::kManifest, "text/plain; charset=utf-8", true, TypeVerdict::kAllowed},
      {FetchKind::kManifest, "application/octet-stream", true, TypeVerdict::kTolerated},
      {FetchKind::kManifest, "", false, TypeVerdict::kTolerated},
      {FetchKind::kManifest, "text/html", true, TypeVerdict::kRejected},
      {FetchKind::kManifest, "video/mp4", true, TypeVerdict::kRejected},
      {FetchKind::kSegment, "video/mp4", true, TypeVerdict::kAllowed},
      {FetchKind::kSegment, "audio/mp4", true, TypeVerdict::kAllowed},
      {FetchKind::kSegment, "video/iso.segment", true, TypeVerdict::kAllowed},
      {FetchKind::kSegment, "video/MP2T", true, TypeVerdict::kAllowed},
      {FetchKind::kSegment, "application/octet-stream", true, TypeVerdict::kAllowed},
      {FetchKind::kSegment, "text/html", true, TypeVerdict::kRejected},
      {FetchKind::kSegment, "application/vnd.apple.mpegurl", true, TypeVerdict::kRejected},
  };
  for (const auto& c : cases)
    EXPECT_EQ(ClassifyContentType(c.kind, c.header, c.present), c.want) << c.header;
}

constexpr const char* kPlaylist = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n";

TestHttpServer::Response Routes(const TestHttpServer::Request& req, int port) {
  TestHttpServer::Response r;
  if (req.path == "/ok.m3u8") {
    r.content_type = "application/vnd.apple.mpegurl";
    r.body = kPlaylist;
  } else if (req.path == "/octet.m3u8") {
    r.content_type = "application/octet-stream";
    r.body = kPlaylist;
  } else if (req.path == "/html") {
    r.content_type = "text/html";
    r.body = "<html>login</html>";
  } else if (req.path == "/big.m3u8") {
    r.content_type = "application/vnd.apple.mpegurl";
    r.body = std::string(64 * 1024, '#');
  } else if (req.path == "/slow.m3u8") {
    r.content_type = "application/vnd.apple.mpegurl";
    r.body = kPlaylist;
    r.delay_ms = 3000;
  } else if (req.path == "/redirect-local") {
    r.status = 302;
    r.location = "/ok.m3u8";
  } else if (req.path == "/redirect-127-0-0-2") {
    r.status = 302;
    r.location = "http://127.0.0.2:" + std::to_string(port) + "/ok.m3u8";
  } else if (req.path == "/redirect-ftp") {
    r.status = 301;
    r.location = "ftp://127.0.0.1/x";
  } else if (req.path == "/loop") {
    r.status = 302;
    r.location = "http://127.0.0.1:" + std::to_string(port) + "/loop";
  } else if (req.path == "/seg.ts") {
    r.content_type = "video/mp2t";
    r.body = "0123456789";
  } else {
    r.status = 404;
  }
  return r;
}

class FetcherTest : public ::testing::Test {
 protected:
  FetcherTest() : server_([this](const TestHttpServer::Request& r) { return Routes(r, port_); }) {
    port_ = server_.port();
  }
  FetchOptions Lab() {
    FetchOptions o;
    o.allow_private = true;
    return o;
  }
  int port_ = 0;
  TestHttpServer server_;
};

TEST_F(FetcherTest, LoopbackIsBlockedByDefault) {
  CurlFetcher f{FetchOptions{}};
  auto r = f.Fetch(server_.Url("/ok.m3u8"), FetchKind::kManifest);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("loopback"), std::string::npos) << r.status().message();
  EXPECT_EQ(server_.requests(), 0);  // refused before connecting
  // A name that resolves to loopback is refused the same way.
  auto byname = f.Fetch("http://localhost:" + std::to_string(port_) + "/ok.m3u8",
                        FetchKind::kManifest);
  EXPECT_EQ(byname.status().code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(f.Fetch("http://[::ffff:127.0.0.1]:" + std::to_string(port_) + "/ok.m3u8",
                    FetchKind::kManifest).status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(FetcherTest, SchemesAndCredentialsAreRefused) {
  CurlFetcher f{Lab()};
  EXPECT_EQ(f.Fetch("file:///etc/passwd", FetchKind::kManifest).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Fetch("gopher://127.0.0.1/", FetchKind::kManifest).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Fetch("http://user:pw@127.0.0.1:" + std::to_string(port_) + "/ok.m3u8",
                    FetchKind::kManifest).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(f.Fetch("not a url", FetchKind::kManifest).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(FetcherTest, AllowPrivateFetchesAndReusesTheConnection) {
  CurlFetcher f{Lab()};
  for (int i = 0; i < 3; ++i) {
    auto r = f.Fetch(server_.Url("/ok.m3u8"), FetchKind::kManifest);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->body, kPlaylist);
    EXPECT_EQ(r->content_type, "application/vnd.apple.mpegurl");
    EXPECT_FALSE(r->content_type_tolerated);
    EXPECT_EQ(r->status, 200);
  }
  auto seg = f.Fetch(server_.Url("/seg.ts"), FetchKind::kSegment, "2-5");
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ(seg->status, 206);
  EXPECT_EQ(seg->body, "2345");
  EXPECT_EQ(f.connections_opened(), 1u);
  EXPECT_EQ(server_.connections(), 1);
}

TEST_F(FetcherTest, RedirectsAreFollowedAndRecheckedPerHop) {
  CurlFetcher f{Lab()};
  auto r = f.Fetch(server_.Url("/redirect-local"), FetchKind::kManifest);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->redirects, 1);
  EXPECT_EQ(r->url, server_.Url("/ok.m3u8"));
  auto ftp = f.Fetch(server_.Url("/redirect-ftp"), FetchKind::kManifest);
  EXPECT_EQ(ftp.status().code(), StatusCode::kInvalidArgument) << ftp.status().ToString();
  auto loop = f.Fetch(server_.Url("/loop"), FetchKind::kManifest);
  EXPECT_EQ(loop.status().code(), StatusCode::kFailedPrecondition) << loop.status().ToString();
}

// The first hop (127.0.0.1, allowed in the lab) is served; its redirect to a blocked address is
// refused at the hop, before any connection to it.
TEST_F(FetcherTest, RedirectToBlockedHostIsBlockedAtTheHop) {
  FetchOptions o = Lab();
  o.extra_blocked.push_back({*ParseIpLiteral("127.0.0.2"), 32});
  CurlFetcher lab{o};
  auto r = lab.Fetch(server_.Url("/redirect-127-0-0-2"), FetchKind::kManifest);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied) << r.status().ToString();
  EXPECT_NE(r.status().message().find("127.0.0.2"), std::string::npos);
  EXPECT_EQ(server_.requests(), 1);
  // Under the default policy, the cloud metadata address is refused outright.
  CurlFetcher strict{FetchOptions{}};
  EXPECT_EQ(strict.Fetch("http://169.254.169.254/latest/meta-data/", FetchKind::kManifest)
                .status().code(),
            StatusCode::kPermissionDenied);
}

TEST_F(FetcherTest, SizeLimit) {
  FetchOptions o = Lab();
  o.max_manifest_bytes = 1000;
  CurlFetcher f{o};
  auto r = f.Fetch(server_.Url("/big.m3u8"), FetchKind::kManifest);
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge) << r.status().ToString();
  // The same handle still works afterwards.
  EXPECT_TRUE(f.Fetch(server_.Url("/ok.m3u8"), FetchKind::kManifest).ok());
}

TEST_F(FetcherTest, Timeout) {
  FetchOptions o = Lab();
  o.total_timeout_seconds = 0.3;
  CurlFetcher f{o};
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.Fetch(server_.Url("/slow.m3u8"), FetchKind::kManifest);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  EXPECT_LT(s, 2.0);
}

// The cancel flag aborts a transfer in progress (the server's shutdown of its probes).
TEST_F(FetcherTest, CancelAbortsATransferInFlight) {
  std::atomic<bool> cancel{false};
  FetchOptions o = Lab();
  o.cancel = &cancel;
  CurlFetcher f{o};
  EXPECT_TRUE(f.Fetch(server_.Url("/ok.m3u8"), FetchKind::kManifest).ok());
  std::thread stopper([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    cancel.store(true);
  });
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.Fetch(server_.Url("/slow.m3u8"), FetchKind::kManifest);  // answers after 3 s
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  stopper.join();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("cancelled"), std::string::npos);
  EXPECT_LT(s, 2.0);
  // Once cancelled, nothing new starts.
  EXPECT_EQ(f.Fetch(server_.Url("/ok.m3u8"), FetchKind::kManifest).status().code(),
            StatusCode::kUnavailable);
}

TEST_F(FetcherTest, ContentTypes) {
  CurlFetcher f{Lab()};
  auto html = f.Fetch(server_.Url("/html"), FetchKind::kManifest);
  EXPECT_EQ(html.status().code(), StatusCode::kUnsupportedMediaType);
  auto octet = f.Fetch(server_.Url("/octet.m3u8"), FetchKind::kManifest);
  ASSERT_TRUE(octet.ok());
  EXPECT_TRUE(octet->content_type_tolerated);
  auto seg_as_manifest = f.Fetch(server_.Url("/seg.ts"), FetchKind::kManifest);
  EXPECT_EQ(seg_as_manifest.status().code(), StatusCode::kUnsupportedMediaType);
  auto missing = f.Fetch(server_.Url("/nope"), FetchKind::kManifest);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

// ---- DNS resolution under a deadline (resolve.h) --------------------------------------------

// A resolver that blocks until released, then answers 127.0.0.1: a hung DNS server, made
// deterministic. Its state is shared with the helper threads, which may outlive a test's call.
struct HungResolver {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    bool released = false;
    std::atomic<int> calls{0};
  };
  std::shared_ptr<State> state = std::make_shared<State>();
  Resolver resolver() const {
    return [s = state](const std::string&) -> Result<std::vector<IpAddress>> {
      ++s->calls;
      std::unique_lock<std::mutex> lock(s->mu);
      s->cv.wait(lock, [&] { return s->released; });
      return std::vector<IpAddress>{*ParseIpLiteral("127.0.0.1")};
    };
  }
  // Lets every parked lookup finish and waits until their threads are gone.
  void ReleaseAndDrain() const {
    {
      std::lock_guard<std::mutex> lock(state->mu);
      state->released = true;
    }
    state->cv.notify_all();
    for (int i = 0; i < 500 && OutstandingLookups() > 0; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(OutstandingLookups(), 0);
  }
};

TEST_F(FetcherTest, HungResolverTimesOutWithinTheRequestDeadline) {
  HungResolver hung;
  FetchOptions o = Lab();
  o.resolver = hung.resolver();
  o.total_timeout_seconds = 0.25;
  CurlFetcher f{o};
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.Fetch("http://media.example.test:" + std::to_string(port_) + "/ok.m3u8",
                   FetchKind::kManifest);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded) << r.status().ToString();
  // The rest of the 250 ms time limit, to the millisecond.
  EXPECT_TRUE(r.status().message().starts_with("DNS resolution of media.example.test timed out after 2"))
      << r.status().message();
  EXPECT_TRUE(r.status().message().ends_with(" ms")) << r.status().message();
  EXPECT_GE(s, 0.2);
  EXPECT_LT(s, 1.5);
  EXPECT_EQ(server_.requests(), 0);
  // The connect timeout bounds the lookup too, when it is the shorter of the two.
  FetchOptions c = Lab();
  c.resolver = hung.resolver();
  c.connect_timeout_seconds = 0.1;
  CurlFetcher g{c};
  auto r2 = g.Fetch("http://media.example.test/ok.m3u8", FetchKind::kManifest);
  EXPECT_EQ(r2.status().message(), "DNS resolution of media.example.test timed out after 100 ms");
  hung.ReleaseAndDrain();
  EXPECT_EQ(hung.state->calls.load(), 2);
}

TEST_F(FetcherTest, InjectedResolverIsCheckedAndPinned) {
  Resolver local = [](const std::string& host) -> Result<std::vector<IpAddress>> {
    if (host != "media.example.test") return Unavailable("cannot resolve " + host);
    return std::vector<IpAddress>{*ParseIpLiteral("127.0.0.1")};
  };
  FetchOptions lab = Lab();
  lab.resolver = local;
  CurlFetcher f{lab};
  std::string url = "http://media.example.test:" + std::to_string(port_) + "/ok.m3u8";
  auto ok = f.Fetch(url, FetchKind::kManifest);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();  // the name reached 127.0.0.1 via the pin
  FetchOptions strict;
  strict.resolver = local;
  CurlFetcher g{strict};
  EXPECT_EQ(g.Fetch(url, FetchKind::kManifest).status().code(), StatusCode::kPermissionDenied);
  auto unknown = f.Fetch("http://other.example.test/x", FetchKind::kManifest);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(OutstandingLookups(), 0);
}

// A dead resolver parks at most kMaxOutstandingLookups threads; further lookups fail at once
// without calling it, and lookups work again once the parked ones finish.
TEST(Resolve, OutstandingLookupsAreBounded) {
  HungResolver hung;
  for (int i = 0; i < kMaxOutstandingLookups; ++i)
    EXPECT_EQ(ResolveWithDeadline(hung.resolver(), "h" + std::to_string(i),
                                  std::chrono::milliseconds(1))
                  .status()
                  .code(),
              StatusCode::kDeadlineExceeded);
  EXPECT_EQ(OutstandingLookups(), kMaxOutstandingLookups);
  auto t0 = std::chrono::steady_clock::now();
  auto refused = ResolveWithDeadline(hung.resolver(), "one-more", std::chrono::seconds(5));
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 0.5);
  EXPECT_EQ(refused.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("one-more"), std::string::npos);
  hung.ReleaseAndDrain();
  auto again = ResolveWithDeadline(hung.resolver(), "again", std::chrono::seconds(5));
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(FormatIp(again->front()), "127.0.0.1");
  // The system resolver behind the same deadline (a literal needs no DNS server).
  auto sys = ResolveWithDeadline({}, "127.0.0.1", std::chrono::seconds(5));
  ASSERT_TRUE(sys.ok()) << sys.status().ToString();
  EXPECT_EQ(FormatIp(sys->front()), "127.0.0.1");
}

}  // namespace
}  // namespace avtrace::analyzer::fetch
