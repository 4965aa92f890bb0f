#pragma once
// TestHttpServer: a tiny HTTP/1.1 server on 127.0.0.1 for the fetcher, crawler and live-monitor
// tests (test code only; nothing in the library includes it).
//
// Listens on an ephemeral port, answers every request with what the handler returns, keeps
// connections alive (so connection reuse is observable), honours "Range: bytes=a-b" with 206,
// and can delay a response (timeout tests). One thread accepts, one thread serves each
// connection; the destructor stops and joins them all.
//
// Threads: the handler runs on connection threads, possibly concurrently; it must be
// thread-safe. Errors: construction aborts the test process if the socket cannot be bound.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace avtrace::analyzer::fetch {

class TestHttpServer {
 public:
  struct Request {
    std::string method, path;
    std::map<std::string, std::string> headers;  // names lower-cased
  };
  struct Response {
    int status = 200;
    std::string content_type = "text/plain";  // "" sends no Content-Type
    std::string body;
    std::string location;  // for 3xx
    int delay_ms = 0;
  };
  using Handler = std::function<Response(const Request&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        listen(listen_fd_, 64) != 0) {
      std::perror("TestHttpServer bind/listen");
      std::abort();
    }
    socklen_t len = sizeof a;
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    accept_thread_ = std::thread([this] { AcceptLoop(); });
  }

  ~TestHttpServer() {
    stop_ = true;
    accept_thread_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(conn_threads_);
    }
    for (auto& t : threads) t.join();
    close(listen_fd_);
  }

  int port() const { return port_; }
  std::string Url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int connections() const { return connections_.load(); }
  int requests() const { return requests_.load(); }

 private:
  void AcceptLoop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      ++connections_;
      std::lock_guard<std::mutex> lock(mu_);
      conn_threads_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  bool SleepUnlessStopped(int ms) {
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (std::chrono::steady_clock::now() < until) {
      if (stop_) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return true;
  }

  static void SendAll(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return;
      off += static_cast<size_t>(n);
    }
  }

  void Serve(int fd) {
    std::string buf;
    char chunk[4096];
    while (!stop_) {
      size_t end = buf.find("\r\n\r\n");
      if (end == std::string::npos) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
        continue;
      }
      std::string head = buf.substr(0, end);
      buf.erase(0, end + 4);
      Request req;
      size_t line_end = head.find("\r\n");
      std::string first = head.substr(0, line_end);
      size_t sp1 = first.find(' '), sp2 = first.rfind(' ');
      req.method = first.substr(0, sp1);
      req.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
      for (size_t pos = line_end; pos != std::string::npos && pos < head.size();) {
        size_t next = head.find("\r\n", pos + 2);
        std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos
                                                                         : next - pos - 2);
        size_t colon = line.find(':');
        if (colon != std::string::npos) {
          std::string name = line.substr(0, colon);
          for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
          size_t v = line.find_first_not_of(' ', colon + 1);
          req.headers[name] = v == std::string::npos ? "" : line.substr(v);
        }
        pos = next;
      }
      ++requests_;
      Response r = handler_(req);
      if (r.delay_ms > 0 && !SleepUnlessStopped(r.delay_ms)) break;
      std::string body = r.body;
      int status = r.status;
      std::string extra;
      auto range = req.headers.find("range");
      if (status == 200 && range != req.headers.end() && range->second.rfind("bytes=", 0) == 0) {
        std::string spec = range->second.substr(6);
        size_t dash = spec.find('-');
        size_t a = std::stoul(spec.substr(0, dash));
        size_t b = dash + 1 < spec.size() ? std::stoul(spec.substr(dash + 1)) : body.size() - 1;
        if (a < body.size()) {
          b = std::min(b, body.size() - 1);
          extra = "Content-Range: bytes " + std::to_string(a) + "-" + std::to_string(b) + "/" +
                  std::to_string(body.size()) + "\r\n";
          body = body.substr(a, b - a + 1);
          status = 206;
        }
      }
      std::string out = "HTTP/1.1 " + std::to_string(status) + " X\r\n";
      if (!r.content_type.empty()) out += "Content-Type: " + r.content_type + "\r\n";
      if (!r.location.empty()) out += "Location: " + r.location + "\r\n";
      out += extra + "Content-Length: " + std::to_string(body.size()) +
             "\r\nConnection: keep-alive\r\n\r\n";
      if (req.method != "HEAD") out += body;
      SendAll(fd, out);
    }
    close(fd);
  }

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0}, requests_{0};
  std::thread accept_thread_;
  std::mutex mu_;
  std::vector<std::thread> conn_threads_;
};

}  // namespace avtrace::analyzer::fetch
