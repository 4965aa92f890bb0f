#include <gtest/gtest.h>
#include <simdjson.h>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

using testing::DecodeWith;

constexpr Signal kSignals[] = {Signal::kTraces, Signal::kMetrics, Signal::kLogs};

bool ValidJson(std::string_view text) {
  simdjson::dom::parser parser;
  simdjson::dom::element e;
  return parser.parse(text.data(), text.size()).get(e) == simdjson::SUCCESS;
}

TEST(Encode, ProtoRoundTripKeepsEveryField) {
  for (Signal s : kSignals) {
    SCOPED_TRACE(std::string(SignalName(s)));
    Batch b = testing::MakeBatch(s);
    std::string expected = CanonicalDump(s, b);
    auto d = DecodeWith(false, s, EncodeProto(s, b));
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.outcome.rejected, 0) << d.outcome.error_message;
    EXPECT_EQ(CanonicalDump(s, d.batch), expected);
    // Encoding is deterministic and stable under a second round.
    EXPECT_EQ(EncodeProto(s, d.batch), EncodeProto(s, b));
  }
}

TEST(Encode, JsonRoundTripKeepsEveryField) {
  for (Signal s : kSignals) {
    SCOPED_TRACE(std::string(SignalName(s)));
    Batch b = testing::MakeBatch(s);
    std::string expected = CanonicalDump(s, b);
    std::string json = EncodeJson(s, b);
    ASSERT_TRUE(ValidJson(json)) << json;
    auto d = DecodeWith(true, s, json);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.outcome.rejected, 0) << d.outcome.error_message;
    EXPECT_EQ(CanonicalDump(s, d.batch), expected);
    EXPECT_EQ(EncodeJson(s, d.batch), json);
  }
}

TEST(Encode, ProtoAndJsonDecodesAgree) {
  for (Signal s : kSignals) {
    SCOPED_TRACE(std::string(SignalName(s)));
    Batch b = testing::MakeBatch(s);
    auto from_proto = DecodeWith(false, s, EncodeProto(s, b));
    auto from_json = DecodeWith(true, s, EncodeJson(s, b));
    ASSERT_TRUE(from_proto.status.ok());
    ASSERT_TRUE(from_json.status.ok());
    EXPECT_EQ(CanonicalDump(s, from_proto.batch), CanonicalDump(s, from_json.batch));
    // And across: JSON of the proto decode equals JSON of the JSON decode.
    EXPECT_EQ(EncodeJson(s, from_proto.batch), EncodeJson(s, from_json.batch));
    EXPECT_EQ(EncodeProto(s, from_proto.batch), EncodeProto(s, from_json.batch));
  }
}

TEST(Encode, JsonFollowsOtlpConventions) {
  Batch b = testing::MakeTraceBatch();
  std::string json = EncodeJson(Signal::kTraces, b);
  // Hex ids, int64 as strings, enums as integers, camelCase keys.
  EXPECT_NE(json.find("\"traceId\":\"" + HexId(b.spans[0].trace_id) + "\""), std::string::npos);
  EXPECT_NE(json.find("\"spanId\":\"" + HexId(b.spans[0].span_id) + "\""), std::string::npos);
  EXPECT_NE(json.find("\"startTimeUnixNano\":\"1795446817857000000\""), std::string::npos);
  EXPECT_NE(json.find("\"endTimeUnixNano\":\"18446744073709551615\""), std::string::npos);
  EXPECT_NE(json.find("\"kind\":3"), std::string::npos);
  EXPECT_NE(json.find("\"status\":{\"message\":\"HTTP 503 from edge-1\",\"code\":2}"),
            std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"span.int\",\"value\":{\"intValue\":\"42\"}}"), std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"span.nan\",\"value\":{\"doubleValue\":\"NaN\"}}"),
            std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"span.-inf\",\"value\":{\"doubleValue\":\"-Infinity\"}}"),
            std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"span.negzero\",\"value\":{\"doubleValue\":-0.0}}"),
            std::string::npos);
  EXPECT_NE(json.find("{\"key\":\"span.bytes\",\"value\":{\"bytesValue\":\"AAH+/w==\"}}"),
            std::string::npos);
  EXPECT_NE(json.find("\"span.str\",\"value\":{\"stringValue\":\"value ünïcödé 🎬 \\\"quoted\\\" "
                      "\\\\ \\n\\t\"}"),
            std::string::npos);
  EXPECT_NE(json.find("\"flags\":769"), std::string::npos);
  EXPECT_EQ(json.find("parent_span_id"), std::string::npos);

  Batch m = testing::MakeMetricsBatch();
  std::string mj = EncodeJson(Signal::kMetrics, m);
  EXPECT_NE(mj.find("\"aggregationTemporality\":2,\"isMonotonic\":true"), std::string::npos);
  EXPECT_NE(mj.find("\"bucketCounts\":[\"0\",\"1\",\"0\",\"3\",\"1\",\"18446744073709551615\"]"),
            std::string::npos);
  EXPECT_NE(mj.find("\"explicitBounds\":[0.0,5.0,10.0,25.5,1e+09]"), std::string::npos);
  EXPECT_NE(mj.find("\"asInt\":\"-9223372036854775808\""), std::string::npos);
  EXPECT_NE(mj.find("\"positive\":{\"offset\":-27,\"bucketCounts\":[\"1\",\"0\",\"300\","
                    "\"1099511627776\"]}"),
            std::string::npos);
  EXPECT_NE(mj.find("\"scale\":-3"), std::string::npos);
  EXPECT_NE(mj.find("\"quantileValues\":[{\"quantile\":0.0,\"value\":0.5}"), std::string::npos);
}

TEST(Encode, JsonEscapesControlCharactersAndRepairsBadUtf8) {
  Batch b;
  b.resources.emplace_back();
  b.scopes.emplace_back();
  Span s;
  s.trace_id = testing::MakeId<16>(1);
  s.span_id = testing::MakeId<8>(2);
  // Not something our decoders produce, but a Batch from elsewhere must still give valid JSON.
  s.name = b.arena.Copy("a\x01\x1f\x7f b\xff c\xe2\x82 d\xf0\x9f\x8e\xac");
  b.spans.push_back(s);
  std::string json = EncodeJson(Signal::kTraces, b);
  ASSERT_TRUE(ValidJson(json)) << json;
  EXPECT_NE(json.find("\"name\":\"a\\u0001\\u001f\x7f b\xEF\xBF\xBD c\xEF\xBF\xBD\xEF\xBF\xBD "
                      "d\xf0\x9f\x8e\xac\""),
            std::string::npos)
      << json;
}

TEST(Encode, EmptyBatchesEncodeToEmptyRequests) {
  Batch b;
  EXPECT_EQ(EncodeProto(Signal::kLogs, b), "");
  EXPECT_EQ(EncodeJson(Signal::kLogs, b), "{\"resourceLogs\":[]}");
  EXPECT_EQ(EncodeJson(Signal::kMetrics, b), "{\"resourceMetrics\":[]}");
}

TEST(Encode, GroupsInterleavedItemsByResourceAndScope) {
  Batch b;
  b.resources.resize(2);
  b.resources[0].attributes = testing::SimpleAttrs(b, "service.name", "a");
  b.resources[1].attributes = testing::SimpleAttrs(b, "service.name", "b");
  b.scopes.resize(2);
  b.scopes[0].name = "s0";
  b.scopes[1].name = "s1";
  for (uint32_t i = 0; i < 6; ++i) {
    LogRecord l;
    l.time_unix_nano = i + 1;
    l.resource_index = i % 2;
    l.scope_index = (i / 2) % 2;
    b.logs.push_back(l);
  }
  auto d = DecodeWith(false, Signal::kLogs, EncodeProto(Signal::kLogs, b));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.batch.resources.size(), 2u);
  EXPECT_EQ(d.batch.scopes.size(), 4u);  // (0,0) (0,1) (1,0) (1,1)
  std::vector<uint64_t> times;
  for (const LogRecord& l : d.batch.logs) times.push_back(l.time_unix_nano);
  EXPECT_EQ(times, (std::vector<uint64_t>{1, 5, 3, 2, 6, 4}));
  EXPECT_EQ(CanonicalDump(Signal::kLogs, d.batch), CanonicalDump(Signal::kLogs, b));
}

TEST(Encode, OutOfRangeIndicesDoNotCrash) {
  Batch b;
  Span s;
  s.trace_id = testing::MakeId<16>(1);
  s.span_id = testing::MakeId<8>(2);
  s.resource_index = 7;
  s.scope_index = 9;
  b.spans.push_back(s);
  MetricPoint orphan;
  orphan.metric_index = 3;
  b.points.push_back(orphan);
  auto d = DecodeWith(false, Signal::kTraces, EncodeProto(Signal::kTraces, b));
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.batch.spans.size(), 1u);
  EXPECT_TRUE(ValidJson(EncodeJson(Signal::kTraces, b)));
  EXPECT_TRUE(ValidJson(EncodeJson(Signal::kMetrics, b)));
}

TEST(Encode, ExportResponses) {
  DecodeOutcome ok;
  EXPECT_EQ(EncodeExportResponseProto(Signal::kTraces, ok), "");
  EXPECT_EQ(EncodeExportResponseJson(Signal::kTraces, ok), "{}");

  DecodeOutcome partial{3, "spans[2].traceId: bad"};
  std::string pb = EncodeExportResponseProto(Signal::kTraces, partial);
  // partial_success=1 { rejected=1: 3, error_message=2 }
  std::string expected = "\x0a\x19\x08\x03\x12\x15spans[2].traceId: bad";
  EXPECT_EQ(pb, expected);
  EXPECT_EQ(EncodeExportResponseJson(Signal::kTraces, partial),
            "{\"partialSuccess\":{\"rejectedSpans\":\"3\",\"errorMessage\":\"spans[2].traceId: "
            "bad\"}}");
  EXPECT_EQ(EncodeExportResponseJson(Signal::kMetrics, DecodeOutcome{1, ""}),
            "{\"partialSuccess\":{\"rejectedDataPoints\":\"1\"}}");
  EXPECT_EQ(EncodeExportResponseJson(Signal::kLogs, DecodeOutcome{0, "warning"}),
            "{\"partialSuccess\":{\"errorMessage\":\"warning\"}}");
  EXPECT_EQ(EncodeExportResponseJson(Signal::kLogs, DecodeOutcome{2, ""}),
            "{\"partialSuccess\":{\"rejectedLogRecords\":\"2\"}}");

  EXPECT_EQ(EncodeRpcStatusProto(3, "bad \"input\""), std::string("\x08\x03\x12\x0b"
                                                                  "bad \"input\""));
  EXPECT_EQ(EncodeRpcStatusJson(3, "bad \"input\""),
            "{\"code\":3,\"message\":\"bad \\\"input\\\"\"}");
  EXPECT_EQ(EncodeRpcStatusProto(0, ""), "");
}

TEST(Encode, DumpShowsTypedValues) {
  Batch b;
  std::string enc;
  AttrWriter w(&enc);
  w.String("s", "5");
  w.Int("i", 5);
  w.Double("d", 5);
  w.Bool("b", true);
  w.Bytes("y", "5");
  b.resources.push_back(Resource{testing::Attrs(b, enc), 0, ""});
  b.scopes.emplace_back();
  LogRecord l;
  b.logs.push_back(l);
  EXPECT_EQ(CanonicalDump(Signal::kLogs, b),
            "resource schema_url=\"\" attrs={\"s\"=s:\"5\", \"i\"=i:5, \"d\"=d:5, \"b\"=b:true, "
            "\"y\"=y:NQ==}#5 dropped_attrs=0\n"
            "  scope name=\"\" version=\"\" schema_url=\"\" attrs={} dropped_attrs=0\n"
            "    log time=0 observed=0 severity=0 severity_text=\"\" body=none attrs={} "
            "dropped_attrs=0 flags=0 trace=00000000000000000000000000000000 span=0000000000000000 "
            "event_name=\"\"\n");
}

}  // namespace
}  // namespace avtrace::otlp
