// Google Benchmark for the OTLP decoders and encoders on a typical trace request (100 spans,
// ~10 attributes each) and on the captured JS SDK payloads. Built by bench/ (not by the module
// glob); items/s is spans/s.

#include <benchmark/benchmark.h>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

void BM_Decode(benchmark::State& state, bool json) {
  const Batch batch = testing::TypicalTraceBatch(static_cast<int>(state.range(0)));
  const std::string body =
      json ? EncodeJson(Signal::kTraces, batch) : EncodeProto(Signal::kTraces, batch);
  for (auto _ : state) {
    Batch b;
    std::string_view owned = b.arena.Adopt(body);
    DecodeOutcome outcome;
    Status s = json ? DecodeJson(Signal::kTraces, owned, &b, &outcome)
                    : DecodeProto(Signal::kTraces, owned, &b, &outcome);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    benchmark::DoNotOptimize(b.spans.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
void BM_DecodeProto(benchmark::State& state) { BM_Decode(state, false); }
void BM_DecodeJson(benchmark::State& state) { BM_Decode(state, true); }
BENCHMARK(BM_DecodeProto)->Arg(1)->Arg(100)->Arg(1000);
BENCHMARK(BM_DecodeJson)->Arg(1)->Arg(100)->Arg(1000);

void BM_Encode(benchmark::State& state, bool json) {
  const Batch batch = testing::TypicalTraceBatch(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    std::string out =
        json ? EncodeJson(Signal::kTraces, batch) : EncodeProto(Signal::kTraces, batch);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
void BM_EncodeProto(benchmark::State& state) { BM_Encode(state, false); }
void BM_EncodeJson(benchmark::State& state) { BM_Encode(state, true); }
BENCHMARK(BM_EncodeProto)->Arg(100);
BENCHMARK(BM_EncodeJson)->Arg(100);

void BM_DecodeCaptured(benchmark::State& state, Signal signal, bool json) {
  const std::string body = testing::ReadFile(
      testing::DataPath("js_" + std::string(SignalName(signal)) + (json ? ".json" : ".pb")));
  for (auto _ : state) {
    Batch b;
    std::string_view owned = b.arena.Adopt(body);
    DecodeOutcome outcome;
    Status s =
        json ? DecodeJson(signal, owned, &b, &outcome) : DecodeProto(signal, owned, &b, &outcome);
    if (!s.ok()) state.SkipWithError(s.message().c_str());
    benchmark::DoNotOptimize(b.ItemCount());
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(body.size()));
}
BENCHMARK_CAPTURE(BM_DecodeCaptured, js_traces_pb, Signal::kTraces, false);
BENCHMARK_CAPTURE(BM_DecodeCaptured, js_traces_json, Signal::kTraces, true);
BENCHMARK_CAPTURE(BM_DecodeCaptured, js_metrics_pb, Signal::kMetrics, false);
BENCHMARK_CAPTURE(BM_DecodeCaptured, js_metrics_json, Signal::kMetrics, true);

}  // namespace
}  // namespace avtrace::otlp

BENCHMARK_MAIN();
