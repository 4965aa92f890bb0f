#include "ingest/session_events.h"

#include <gtest/gtest.h>

#include "metrics/registry.h"

namespace avtrace::ingest {
namespace {

// A writer that never drains: at most `cap` chunks are accepted.
class FakeWriter final : public StreamWriter {
 public:
  explicit FakeWriter(size_t cap) : cap_(cap) {}
  bool Write(std::string chunk) override {
    if (closed_ || chunks.size() >= cap_) return false;
    chunks.push_back(std::move(chunk));
    return true;
  }
  void Close() override { MarkClosed(); }
  bool closed() const override { return closed_; }
  void OnClose(std::function<void()> cb) override {
    if (closed_) return cb();
    cb_ = std::move(cb);
  }
  void MarkClosed() {
    if (closed_) return;
    closed_ = true;
    if (cb_) cb_();
  }
  std::vector<std::string> chunks;

 private:
  size_t cap_;
  bool closed_ = false;
  std::function<void()> cb_;
};

otlp::Batch BatchOf(std::string_view project, uint64_t first, int n) {
  otlp::Batch b;
  for (int i = 0; i < n; ++i) {
    otlp::PlaybackEvent e;
    e.project_id = project;
    e.session_id = "s1";
    e.event_name = "segment_loaded";
    e.ingest_sequence = first + static_cast<uint64_t>(i);
    b.playback_events.push_back(e);
  }
  return b;
}

void Publish(SessionEvents& ev, otlp::Batch& b) {
  otlp::Batch* p = &b;
  ev.Publish(std::span<otlp::Batch* const>(&p, 1));
}

SessionEventsOptions Opts() {
  SessionEventsOptions o;
  o.heartbeat_ms = 3'600'000;
  o.max_subscribers = 2;
  o.backfill_buffer = 4;
  return o;
}

TEST(SessionEvents, FrameShape) {
  otlp::Batch b = BatchOf("demo", 7, 1);
  b.playback_events[0].time_skew_warning = true;
  EXPECT_EQ(SessionEvents::Frame(b.playback_events[0]),
            "id: 7\nevent: event_appended\ndata: {\"project_id\":\"demo\",\"session_id\":\"s1\","
            "\"ingest_sequence\":7,\"event_name\":\"segment_loaded\",\"time_skew_warning\":true}"
            "\n\n");
}

TEST(SessionEvents, FansOutByProjectAndHeartbeats) {
  metrics::Registry reg;
  SessionEvents ev(Opts(), &reg);
  auto a = std::make_shared<FakeWriter>(100), other = std::make_shared<FakeWriter>(100);
  ASSERT_NE(ev.Subscribe("demo", a, false), 0u);
  ASSERT_NE(ev.Subscribe("other", other, false), 0u);
  otlp::Batch b = BatchOf("demo", 1, 3);
  Publish(ev, b);
  EXPECT_EQ(a->chunks.size(), 3u);
  EXPECT_TRUE(other->chunks.empty());
  ev.Heartbeat();
  EXPECT_EQ(a->chunks.back(), ": heartbeat\n\n");
  EXPECT_EQ(other->chunks.size(), 1u);
}

TEST(SessionEvents, BoundedSubscribersAndUnsubscribeOnClose) {
  metrics::Registry reg;
  SessionEvents ev(Opts(), &reg);
  auto a = std::make_shared<FakeWriter>(10), b = std::make_shared<FakeWriter>(10),
       c = std::make_shared<FakeWriter>(10);
  EXPECT_NE(ev.Subscribe("demo", a, false), 0u);
  EXPECT_NE(ev.Subscribe("demo", b, false), 0u);
  EXPECT_TRUE(ev.full());
  EXPECT_EQ(ev.Subscribe("demo", c, false), 0u);
  a->MarkClosed();
  EXPECT_EQ(ev.subscribers(), 1u);
  EXPECT_NE(ev.Subscribe("demo", c, false), 0u);
}

TEST(SessionEvents, OverflowDisconnectsAndCounts) {
  metrics::Registry reg;
  SessionEvents ev(Opts(), &reg);
  auto slow = std::make_shared<FakeWriter>(4), fast = std::make_shared<FakeWriter>(100);
  ev.Subscribe("demo", slow, false);
  ev.Subscribe("demo", fast, false);
  otlp::Batch b = BatchOf("demo", 1, 6);
  Publish(ev, b);
  EXPECT_TRUE(slow->closed());
  EXPECT_FALSE(fast->closed());
  EXPECT_EQ(fast->chunks.size(), 6u);
  EXPECT_EQ(ev.subscribers(), 1u);
  EXPECT_EQ(reg.Counter("avtrace_api_sse_dropped_clients_total", "").Value(), 1);
}

TEST(SessionEvents, BackfillBuffersLiveFramesThenFlushesNewerOnes) {
  metrics::Registry reg;
  SessionEvents ev(Opts(), &reg);
  auto w = std::make_shared<FakeWriter>(100);
  uint64_t id = ev.Subscribe("demo", w, true);
  otlp::Batch b = BatchOf("demo", 10, 3);  // 10, 11, 12 arrive while backfilling
  Publish(ev, b);
  EXPECT_TRUE(w->chunks.empty());
  ev.FinishBackfill(id, 10);  // the backfill sent up to 10
  ASSERT_EQ(w->chunks.size(), 1u);
  EXPECT_EQ(w->chunks[0].find("id: 10\n"), std::string::npos);
  EXPECT_NE(w->chunks[0].find("id: 11\n"), std::string::npos);
  EXPECT_NE(w->chunks[0].find("id: 12\n"), std::string::npos);
  // A backfilling client whose live buffer overflows is dropped.
  auto w2 = std::make_shared<FakeWriter>(100);
  ev.Subscribe("demo", w2, true);
  otlp::Batch big = BatchOf("demo", 20, 5);
  Publish(ev, big);
  EXPECT_TRUE(w2->closed());
}

}  // namespace
}  // namespace avtrace::ingest
