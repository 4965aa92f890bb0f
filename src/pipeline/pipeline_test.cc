#include "pipeline/pipeline.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>

#include "metrics/registry.h"

namespace avtrace::pipeline {
namespace {

// A store that records appends and can be held (to fill the queue) or made to fail.
class FakeStore : public store::Store {
 public:
  Status Append(std::span<const otlp::Batch* const> batches) override {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !hold; });
    ++appends;
    for (const auto* b : batches) spans += b->spans.size();
    return fail ? Internal("disk on fire") : Status::Ok();
  }
  Result<bool> Maintain(uint32_t) override { return false; }
  Result<store::RetentionResult> ApplyRetention(const store::RetentionCutoffs&, uint32_t) override {
    return store::RetentionResult{};
  }
  Result<otlp::Batch> GetTrace(const otlp::TraceId&) override { return NotFound("x"); }
  Result<store::TraceSearchResult> SearchTraces(const store::TraceQuery&) override {
    return store::TraceSearchResult{};
  }
  Result<std::vector<store::MetricInfo>> ListMetrics(const store::MetricListQuery&) override {
    return std::vector<store::MetricInfo>{};
  }
  Result<store::SeriesResult> QuerySeries(const store::SeriesQuery&) override {
    return store::SeriesResult{};
  }
  Result<store::LogSearchResult> SearchLogs(const store::LogQuery&) override {
    return store::LogSearchResult{};
  }
  Result<store::StoreStats> Stats() override { return store::StoreStats{}; }
  void Close() override {}

  void Hold(bool h) {
    {
      std::lock_guard lock(mu);
      hold = h;
    }
    cv.notify_all();
  }

  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool fail = false;
  int appends = 0;
  size_t spans = 0;
};

otlp::Batch Spans(size_t n) {
  otlp::Batch b;
  b.spans.resize(n);
  return b;
}

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  int done = 0;
  int ok = 0;
  std::vector<StatusCode> codes;
  Pipeline::Done Callback() {
    return [this](const Status& s) {
      std::lock_guard lock(mu);
      ++done;
      if (s.ok()) ++ok;
      codes.push_back(s.code());
      cv.notify_all();
    };
  }
  void WaitFor(int n) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return done >= n; });
  }
};

class PipelineTest : public ::testing::Test {
 protected:
  Config::Pipeline config_;
  Config::Retention retention_;
  FakeStore store_;
  metrics::Registry registry_;
  SystemClock clock_;
};

TEST_F(PipelineTest, AcknowledgesOnlyAfterCommit) {
  Pipeline p(config_, retention_, &store_, &registry_, &clock_);
  p.Start();
  store_.Hold(true);
  Waiter w;
  ASSERT_TRUE(p.Submit(Spans(10), otlp::Signal::kTraces, w.Callback()).ok());
  ASSERT_TRUE(p.Submit(Spans(5), otlp::Signal::kTraces, w.Callback()).ok());
  {
    std::lock_guard lock(w.mu);
    EXPECT_EQ(w.done, 0);  // the store has not committed yet
  }
  store_.Hold(false);
  w.WaitFor(2);
  EXPECT_EQ(w.ok, 2);
  EXPECT_EQ(store_.spans, 15u);
  p.Shutdown();
}

TEST_F(PipelineTest, FullQueueIsResourceExhaustedWithRetryAfter) {
  config_.queue_max_items = 100;
  Pipeline p(config_, retention_, &store_, &registry_, &clock_);
  p.Start();
  store_.Hold(true);
  Waiter w;
  // The first request is taken by the writer (blocked in Append); the next ones fill the queue.
  ASSERT_TRUE(p.Submit(Spans(60), otlp::Signal::kTraces, w.Callback()).ok());
  int admitted = 1;
  Status last;
  for (int i = 0; i < 10; ++i) {
    last = p.Submit(Spans(60), otlp::Signal::kTraces, w.Callback());
    if (!last.ok()) break;
    ++admitted;
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_GE(p.RetryAfterSeconds(), 1u);
  EXPECT_LE(p.RetryAfterSeconds(), 60u);
  store_.Hold(false);
  w.WaitFor(admitted);
  EXPECT_EQ(w.ok, admitted);  // everything admitted was committed
  p.Shutdown();
}

TEST_F(PipelineTest, ShutdownDrainsAndThenRefuses) {
  Pipeline p(config_, retention_, &store_, &registry_, &clock_);
  p.Start();
  Waiter w;
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(p.Submit(Spans(3), otlp::Signal::kTraces, w.Callback()).ok());
  p.Shutdown();
  EXPECT_EQ(w.done, 50);
  EXPECT_EQ(w.ok, 50);
  EXPECT_EQ(p.Submit(Spans(1), otlp::Signal::kTraces, w.Callback()).code(),
            StatusCode::kUnavailable);
  p.Shutdown();  // safe twice
}

TEST_F(PipelineTest, StoreErrorFailsEveryRequestOfTheGroup) {
  store_.fail = true;
  Pipeline p(config_, retention_, &store_, &registry_, &clock_);
  p.Start();
  Waiter w;
  ASSERT_TRUE(p.Submit(Spans(1), otlp::Signal::kLogs, w.Callback()).ok());
  w.WaitFor(1);
  EXPECT_EQ(w.ok, 0);
  EXPECT_EQ(w.codes[0], StatusCode::kUnavailable);
  std::string text = registry_.Serialize();
  EXPECT_NE(text.find("avtrace_pipeline_dropped_total{reason=\"store_error\",signal=\"logs\"} 1"),
            std::string::npos)
      << text;
  p.Shutdown();
}

TEST_F(PipelineTest, GroupsManyRequestsPerCommit) {
  Pipeline p(config_, retention_, &store_, &registry_, &clock_);
  p.Start();
  store_.Hold(true);
  Waiter w;
  ASSERT_TRUE(p.Submit(Spans(1), otlp::Signal::kTraces, w.Callback()).ok());
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(p.Submit(Spans(1), otlp::Signal::kTraces, w.Callback()).ok());
  store_.Hold(false);
  w.WaitFor(101);
  EXPECT_LE(store_.appends, 3);  // the first alone, the rest in one or two groups
  p.Shutdown();
}

}  // namespace
}  // namespace avtrace::pipeline
