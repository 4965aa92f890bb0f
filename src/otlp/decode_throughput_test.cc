// Decode and encode throughput on a typical request: 100 spans with ~10 attributes each (the
// shape of a player / CDN trace export). Prints spans/s; asserts nothing about time, since the
// machine is shared. Run alone for numbers: otlp_test --gtest_filter='Throughput.*'.

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

template <typename Fn>
double SpansPerSecond(int spans_per_call, Fn&& fn) {
  using Clock = std::chrono::steady_clock;
  for (int i = 0; i < 20; ++i) fn();  // warm-up
  int calls = 0;
  auto start = Clock::now();
  double elapsed = 0;
  while (elapsed < 0.25) {
    for (int i = 0; i < 50; ++i) fn();
    calls += 50;
    elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  }
  return calls * static_cast<double>(spans_per_call) / elapsed;
}

TEST(Throughput, DecodeAndEncodeTypicalTraceRequests) {
  constexpr int kSpans = 100;
  Batch batch = testing::TypicalTraceBatch(kSpans);
  const std::string proto = EncodeProto(Signal::kTraces, batch);
  const std::string json = EncodeJson(Signal::kTraces, batch);
  size_t checksum = 0;

  double proto_rate = SpansPerSecond(kSpans, [&] {
    Batch b;
    std::string_view body = b.arena.Adopt(proto);
    DecodeOutcome o;
    Status s = DecodeProto(Signal::kTraces, body, &b, &o);
    checksum += s.ok() ? b.spans.size() : 0;
  });
  double json_rate = SpansPerSecond(kSpans, [&] {
    Batch b;
    std::string_view body = b.arena.Adopt(json);
    DecodeOutcome o;
    Status s = DecodeJson(Signal::kTraces, body, &b, &o);
    checksum += s.ok() ? b.spans.size() : 0;
  });
  double encode_proto_rate =
      SpansPerSecond(kSpans, [&] { checksum += EncodeProto(Signal::kTraces, batch).size(); });
  double encode_json_rate =
      SpansPerSecond(kSpans, [&] { checksum += EncodeJson(Signal::kTraces, batch).size(); });

  std::printf(
      "[throughput] request: %d spans, %zu B proto, %zu B JSON\n"
      "[throughput] DecodeProto %.2f M spans/s (%.0f MB/s)\n"
      "[throughput] DecodeJson  %.2f M spans/s (%.0f MB/s)\n"
      "[throughput] EncodeProto %.2f M spans/s, EncodeJson %.2f M spans/s\n",
      kSpans, proto.size(), json.size(), proto_rate / 1e6,
      proto_rate / kSpans * static_cast<double>(proto.size()) / 1e6, json_rate / 1e6,
      json_rate / kSpans * static_cast<double>(json.size()) / 1e6, encode_proto_rate / 1e6,
      encode_json_rate / 1e6);
  EXPECT_GT(checksum, 0u);
}

}  // namespace
}  // namespace avtrace::otlp
