#include "api/server.h"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <thread>
#include <vector>

#include "api/query_api.h"
#include "api/probes_api.h"
#include "api/sessions_api.h"
#include "core/log.h"
#include "ingest/otlp_http.h"
#include "ingest/pipeline_sink.h"

namespace avtrace::api {

namespace asio = boost::asio;

class Server::Impl {
 public:
  Impl(const Config& config, pipeline::Pipeline* pipeline, store::Store* store,
       metrics::Registry* registry, const Clock* clock, std::string version,
       ingest::PlayerRuntime* player, probe::ProbeRunner* probes)
      : config_(config),
        player_(player),
        probes_(probes),
        pipeline_(pipeline),
        store_(store),
        registry_(registry),
        clock_(clock),
        version_(std::move(version)),
        io_threads_count_(std::max(1, config.io_threads)),
        ioc_(io_threads_count_),
        query_pool_(kQueryThreads) {}

  ~Impl() { Stop(std::chrono::milliseconds(0)); }

  Status Start();
  void Stop(std::chrono::milliseconds deadline);
  const ServerEndpoints& endpoints() const { return endpoints_; }

 private:
  bool RunQuery(std::function<void()> work) {
    if (queued_queries_.fetch_add(1) >= kMaxQueuedQueries) {
      queued_queries_.fetch_sub(1);
      return false;
    }
    asio::post(query_pool_, [this, work = std::move(work)] {
      work();
      queued_queries_.fetch_sub(1);
    });
    return true;
  }

  const Config config_;
  ingest::PlayerRuntime* const player_;
  probe::ProbeRunner* const probes_;
  pipeline::Pipeline* const pipeline_;
  store::Store* const store_;
  metrics::Registry* const registry_;
  const Clock* const clock_;
  const std::string version_;
  const int io_threads_count_;

  // Declared before everything that holds sockets, so it is destroyed after them.
  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::vector<std::thread> io_threads_;
  asio::thread_pool query_pool_;
  std::atomic<int> queued_queries_{0};

  std::unique_ptr<ingest::OtlpHttpReceiver> otlp_;
  std::unique_ptr<ingest::HttpServer> otlp_server_;
  std::unique_ptr<QueryApi> api_;
  std::unique_ptr<ingest::PlayerReceiver> player_receiver_;
  std::unique_ptr<SessionsApi> sessions_api_;
  std::unique_ptr<ProbesApi> probes_api_;
  std::unique_ptr<ingest::HttpServer> api_server_;
  ServerEndpoints endpoints_;
  bool started_ = false;
  bool stopped_ = false;
};

Status Server::Impl::Start() {
  std::string host;
  uint16_t port = 0;
  if (config_.otlp_http.enabled) {
    RETURN_IF_ERROR(
        ParseListenAddress(config_.otlp_http.listen, &host, &port).WithContext("otlp_http.listen"));
    ingest::HttpServerOptions o;
    o.name = "otlp_http";
    o.host = host;
    o.port = port;
    o.max_body_bytes = config_.otlp_http.max_body_bytes;
    o.max_inflight_body_bytes = config_.otlp_http.max_inflight_body_bytes;
    o.error_renderer = ingest::RenderOtlpServerError;
    otlp_ = std::make_unique<ingest::OtlpHttpReceiver>(
        ingest::OtlpHttpOptions::FromConfig(config_),
        std::make_shared<ingest::PipelineSink>(pipeline_), registry_, clock_);
    otlp_server_ = std::make_unique<ingest::HttpServer>(ioc_, o, registry_, clock_);
    otlp_->RegisterRoutes(&otlp_server_->router());
  }

  RETURN_IF_ERROR(ParseListenAddress(config_.http.listen, &host, &port).WithContext("http.listen"));
  ingest::HttpServerOptions o;
  o.name = "api";
  o.host = host;
  o.port = port;
  o.max_body_bytes = 1 << 20;  // queries carry no bodies; beacons will set their own limit
  QueryApiDeps deps;
  deps.store = store_;
  deps.registry = registry_;
  deps.clock = clock_;
  deps.version = version_;
  if (pipeline_) deps.pipeline_stats = [p = pipeline_] { return p->Stats(); };
  deps.run_query = [this](std::function<void()> work) { return RunQuery(std::move(work)); };
  api_ = std::make_unique<QueryApi>(std::move(deps));
  if (player_ && pipeline_) {
    player_receiver_ = std::make_unique<ingest::PlayerReceiver>(player_, pipeline_, clock_);
    o.head_check = [r = player_receiver_.get()](const ingest::HttpRequest& head) {
      return r->CheckHead(head);
    };
    SessionsApiDeps sd;
    sd.store = store_;
    sd.projects = player_->projects.get();
    sd.run_query = [this](std::function<void()> work) { return RunQuery(std::move(work)); };
    sd.events = player_->events.get();
    sessions_api_ = std::make_unique<SessionsApi>(std::move(sd));
  }
  api_server_ = std::make_unique<ingest::HttpServer>(ioc_, o, registry_, clock_);
  api_->RegisterRoutes(&api_server_->router());
  if (player_receiver_) player_receiver_->RegisterRoutes(&api_server_->router());
  if (sessions_api_) sessions_api_->RegisterRoutes(&api_server_->router());
  if (probes_) {
    probes_api_ = std::make_unique<ProbesApi>(probes_, config_.probe_settings.api_writes);
    probes_api_->RegisterRoutes(&api_server_->router());
  }

  if (otlp_server_) {
    RETURN_IF_ERROR(otlp_server_->Listen());
    endpoints_.otlp_http = otlp_server_->endpoint();
  }
  RETURN_IF_ERROR(api_server_->Listen());
  endpoints_.http = api_server_->endpoint();

  std::vector<std::pair<std::string, std::string>> listed;
  if (endpoints_.otlp_http) listed.emplace_back("otlpHttp", endpoints_.otlp_http->ToString());
  listed.emplace_back("http", endpoints_.http.ToString());
  api_->SetEndpoints(std::move(listed));

  work_.emplace(ioc_.get_executor());
  for (int i = 0; i < io_threads_count_; ++i) {
    io_threads_.emplace_back([this] {
      // Handlers catch their own exceptions; this is the last line so a bug cannot take the
      // process down through an io thread.
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          log::Error("io thread caught an exception", {{"error", e.what()}});
        }
      }
    });
  }
  started_ = true;
  api_->SetReady(true);
  return Status::Ok();
}

void Server::Impl::Stop(std::chrono::milliseconds deadline) {
  if (stopped_) return;
  stopped_ = true;
  if (api_) api_->SetReady(false);
  if (otlp_server_) otlp_server_->Stop(deadline);
  if (api_server_) api_server_->Stop(std::min(deadline, std::chrono::milliseconds(2000)));
  query_pool_.join();
  work_.reset();
  ioc_.stop();
  for (auto& t : io_threads_) t.join();
  io_threads_.clear();
  if (started_) log::Info("network front doors stopped");
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

Result<std::unique_ptr<Server>> Server::Start(const Config& config, pipeline::Pipeline* pipeline,
                                              store::Store* store, metrics::Registry* registry,
                                              const Clock* clock, std::string version,
                                              ingest::PlayerRuntime* player,
                                              probe::ProbeRunner* probes) {
  auto impl = std::make_unique<Impl>(config, pipeline, store, registry, clock, std::move(version),
                                     player, probes);
  RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

const ServerEndpoints& Server::endpoints() const { return impl_->endpoints(); }

void Server::Stop(std::chrono::milliseconds deadline) { impl_->Stop(deadline); }

}  // namespace avtrace::api
