#include <gtest/gtest.h>

#include <cmath>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

using testing::DecodeWith;

const char* kTraceId = "5b8efff798038103d269b633813fc60c";
const char* kSpanId = "eee19b7ec3c1b174";

// {"resourceSpans":[{"scopeSpans":[{"spans":[<span>]}]}]}
std::string Spans(const std::string& span) {
  return std::string("{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[") + span + "]}]}]}";
}
// A valid span plus `extra` fields.
std::string Span(const std::string& extra) {
  return Spans(std::string("{\"traceId\":\"") + kTraceId + "\",\"spanId\":\"" + kSpanId +
               "\",\"name\":\"n\"" + (extra.empty() ? "" : "," + extra) + "}");
}
std::string Attr(const std::string& value) {
  return Span("\"attributes\":[{\"key\":\"k\",\"value\":" + value + "}]");
}
std::string Metric(const std::string& metric) {
  return "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[" + metric + "]}]}]}";
}
std::string Log(const std::string& log) {
  return "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[" + log + "]}]}]}";
}

std::string NestedArrayJson(int depth) {
  std::string v = "{\"stringValue\":\"leaf\"}";
  for (int i = 0; i < depth; ++i) v = "{\"arrayValue\":{\"values\":[" + v + "]}}";
  return v;
}

struct BadJson {
  const char* name;
  Signal signal;
  std::string body;
  std::string message;  // exact, or a prefix when it ends with "..."
};

const std::string kSpanPath = "resourceSpans[0].scopeSpans[0].spans[0].";
const std::string kAttrPath = kSpanPath + "attributes[0].value.";
const std::string kU64 = "expected an unsigned 64-bit integer (decimal string or number)";
const std::string kDoubleMsg = "expected a number or \"NaN\", \"Infinity\", \"-Infinity\"";

std::vector<BadJson> BadCases() {
  std::vector<BadJson> c;
  c.push_back({"not JSON", Signal::kTraces, "{\"resourceSpans\":[", "invalid JSON: ..."});
  c.push_back({"empty body", Signal::kTraces, "", "invalid JSON: ..."});
  c.push_back({"trailing garbage", Signal::kTraces, "{} x", "invalid JSON: ..."});
  c.push_back(
      {"raw invalid UTF-8", Signal::kTraces, Span("\"traceState\":\"\xff\""), "invalid JSON: ..."});
  c.push_back(
      {"top-level array", Signal::kTraces, "[]", "expected a JSON object at the top level"});
  c.push_back({"resourceSpans not an array", Signal::kTraces, "{\"resourceSpans\":{}}",
               "resourceSpans: expected an array"});
  c.push_back({"resourceSpans entry not an object", Signal::kTraces, "{\"resourceSpans\":[1]}",
               "resourceSpans[0]: expected an object"});
  c.push_back({"resource not an object", Signal::kTraces, "{\"resourceSpans\":[{\"resource\":[]}]}",
               "resourceSpans[0].resource: expected an object"});
  c.push_back({"scope name a number", Signal::kLogs,
               "{\"resourceLogs\":[{\"scopeLogs\":[{\"scope\":{\"name\":1}}]}]}",
               "resourceLogs[0].scopeLogs[0].scope.name: expected a string"});
  c.push_back({"trace id a number", Signal::kTraces, Spans("{\"traceId\":5}"),
               kSpanPath + "traceId: expected a string of 32 hex digits"});
  c.push_back({"trace id not hex", Signal::kTraces,
               Spans("{\"traceId\":\"zz8efff798038103d269b633813fc60c\"}"),
               kSpanPath + "traceId: expected 32 hex digits"});
  c.push_back({"trace id base64", Signal::kTraces,
               Spans("{\"traceId\":\"W47/95gDgQPSabYzgT/GDA==\"}"),
               kSpanPath + "traceId: expected 32 hex digits"});
  c.push_back({"span id too short", Signal::kTraces, Spans("{\"spanId\":\"eee19b\"}"),
               kSpanPath + "spanId: expected 16 hex digits"});
  c.push_back({"parent span id odd length", Signal::kTraces,
               Span("\"parentSpanId\":\"eee19b7ec3c1b17\""),
               kSpanPath + "parentSpanId: expected 16 hex digits"});
  c.push_back({"name a number", Signal::kTraces, Spans("{\"name\":3}"),
               kSpanPath + "name: expected a string"});
  c.push_back({"lone surrogate", Signal::kTraces, Span("\"traceState\":\"\\ud800\""), "..."});
  c.push_back({"start time a bool", Signal::kTraces, Span("\"startTimeUnixNano\":true"),
               kSpanPath + "startTimeUnixNano: " + kU64});
  c.push_back({"start time negative", Signal::kTraces, Span("\"startTimeUnixNano\":\"-5\""),
               kSpanPath + "startTimeUnixNano: " + kU64});
  c.push_back({"start time not decimal", Signal::kTraces, Span("\"startTimeUnixNano\":\"12a\""),
               kSpanPath + "startTimeUnixNano: " + kU64});
  c.push_back({"start time a fraction", Signal::kTraces, Span("\"startTimeUnixNano\":1.5"),
               kSpanPath + "startTimeUnixNano: " + kU64});
  c.push_back({"end time above 2^64", Signal::kTraces,
               Span("\"endTimeUnixNano\":\"18446744073709551616\""),
               kSpanPath + "endTimeUnixNano: " + kU64});
  c.push_back({"kind an unknown name", Signal::kTraces, Span("\"kind\":\"SPAN_KIND_FOO\""),
               kSpanPath + "kind: expected an enum number"});
  c.push_back({"kind a fraction", Signal::kTraces, Span("\"kind\":1.5"),
               kSpanPath + "kind: expected a signed 32-bit integer"});
  c.push_back({"dropped count negative", Signal::kTraces, Span("\"droppedAttributesCount\":-1"),
               kSpanPath + "droppedAttributesCount: expected an unsigned 32-bit integer"});
  c.push_back({"flags above 32 bits", Signal::kTraces, Span("\"flags\":4294967296"),
               kSpanPath + "flags: expected an unsigned 32-bit integer"});
  c.push_back({"attributes an object", Signal::kTraces, Span("\"attributes\":{}"),
               kSpanPath + "attributes: expected an array"});
  c.push_back({"attribute not an object", Signal::kTraces, Span("\"attributes\":[\"k\"]"),
               kSpanPath + "attributes[0]: expected an object"});
  c.push_back({"attribute key a number", Signal::kTraces, Span("\"attributes\":[{\"key\":1}]"),
               kSpanPath + "attributes[0].key: expected a string"});
  c.push_back({"value not an object", Signal::kTraces, Attr("\"x\""),
               kSpanPath + "attributes[0].value: expected an object"});
  c.push_back(
      {"intValue not an integer", Signal::kTraces, Attr("{\"intValue\":\"x\"}"),
       kAttrPath + "intValue: expected a signed 64-bit integer (decimal string or number)"});
  c.push_back(
      {"intValue overflow", Signal::kTraces, Attr("{\"intValue\":\"9223372036854775808\"}"),
       kAttrPath + "intValue: expected a signed 64-bit integer (decimal string or number)"});
  c.push_back(
      {"intValue as uint64 number", Signal::kTraces, Attr("{\"intValue\":9223372036854775808}"),
       kAttrPath + "intValue: expected a signed 64-bit integer (decimal string or number)"});
  c.push_back({"doubleValue text", Signal::kTraces, Attr("{\"doubleValue\":\"abc\"}"),
               kAttrPath + "doubleValue: " + kDoubleMsg});
  c.push_back({"doubleValue nan lowercase", Signal::kTraces, Attr("{\"doubleValue\":\"nan\"}"),
               kAttrPath + "doubleValue: " + kDoubleMsg});
  c.push_back({"boolValue a string", Signal::kTraces, Attr("{\"boolValue\":\"true\"}"),
               kAttrPath + "boolValue: expected true or false"});
  c.push_back({"bytesValue bad base64", Signal::kTraces, Attr("{\"bytesValue\":\"@@@@\"}"),
               kAttrPath + "bytesValue: invalid base64"});
  c.push_back({"bytesValue bad length", Signal::kTraces, Attr("{\"bytesValue\":\"QUJDR\"}"),
               kAttrPath + "bytesValue: invalid base64"});
  c.push_back({"arrayValue values an object", Signal::kTraces,
               Attr("{\"arrayValue\":{\"values\":{}}}"),
               kAttrPath + "arrayValue.values: expected an array"});
  c.push_back({"nested value wrong type", Signal::kTraces,
               Attr("{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"intValue\":1}},"
                    "{\"key\":\"b\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":7}]}}"
                    "}]}}"),
               kAttrPath + "kvlistValue.values[1].value.arrayValue.values[0].stringValue: "
                           "expected a string"});
  c.push_back({"nesting too deep", Signal::kTraces, Attr(NestedArrayJson(40)),
               kAttrPath + "arrayValue.values[0].arrayValue..."});
  c.push_back({"status not an object", Signal::kTraces, Span("\"status\":2"),
               kSpanPath + "status: expected an object"});
  c.push_back({"status code text", Signal::kTraces, Span("\"status\":{\"code\":\"bad\"}"),
               kSpanPath + "status.code: expected an enum number"});
  c.push_back({"events not an array", Signal::kTraces, Span("\"events\":{}"),
               kSpanPath + "events: expected an array"});
  c.push_back({"event time text", Signal::kTraces, Span("\"events\":[{},{\"timeUnixNano\":\"x\"}]"),
               kSpanPath + "events[1].timeUnixNano: " + kU64});
  c.push_back({"link span id bad", Signal::kTraces, Span("\"links\":[{\"spanId\":\"xyz\"}]"),
               kSpanPath + "links[0].spanId: expected 16 hex digits"});
  c.push_back({"log body a string", Signal::kLogs, Log("{\"body\":\"text\"}"),
               "resourceLogs[0].scopeLogs[0].logRecords[0].body: expected an object"});
  c.push_back({"log body bad value", Signal::kLogs, Log("{\"body\":{\"intValue\":true}}"),
               "resourceLogs[0].scopeLogs[0].logRecords[0].body.intValue: expected a signed "
               "64-bit integer (decimal string or number)"});
  c.push_back({"log severity text", Signal::kLogs, Log("{\"severityNumber\":\"LOUD\"}"),
               "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: expected a signed "
               "32-bit integer"});
  c.push_back({"log trace id bad", Signal::kLogs, Log("{\"traceId\":\"abc\"}"),
               "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: expected 32 hex digits"});
  const std::string hist = "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].";
  c.push_back({"bucket count not a number", Signal::kMetrics,
               Metric("{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"bucketCounts\":[\"1\","
                      "\"x\"]}]}}"),
               hist + "bucketCounts[1]: " + kU64});
  c.push_back({"explicit bound not a number", Signal::kMetrics,
               Metric("{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"explicitBounds\":[1,"
                      "true]}]}}"),
               hist + "explicitBounds[1]: " + kDoubleMsg});
  c.push_back({"histogram not an object", Signal::kMetrics, Metric("{\"histogram\":[]}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram: expected an object"});
  c.push_back({"temporality text", Signal::kMetrics,
               Metric("{\"sum\":{\"aggregationTemporality\":\"SOMETIMES\"}}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality: "
               "expected an enum number"});
  c.push_back({"isMonotonic a number", Signal::kMetrics, Metric("{\"sum\":{\"isMonotonic\":1}}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.isMonotonic: expected true or "
               "false"});
  c.push_back({"scale text", Signal::kMetrics,
               Metric("{\"exponentialHistogram\":{\"dataPoints\":[{\"scale\":\"big\"}]}}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0]."
               "scale: expected a signed 32-bit integer"});
  c.push_back({"buckets offset too big", Signal::kMetrics,
               Metric("{\"exponentialHistogram\":{\"dataPoints\":[{\"positive\":{\"offset\":"
                      "2147483648}}]}}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram.dataPoints[0]."
               "positive.offset: expected a signed 32-bit integer"});
  c.push_back(
      {"quantile text", Signal::kMetrics,
       Metric("{\"summary\":{\"dataPoints\":[{\"quantileValues\":[{\"quantile\":\"q\"}]}]}}"),
       "resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0]."
       "quantileValues[0].quantile: " +
           kDoubleMsg});
  c.push_back({"exemplar trace id bad", Signal::kMetrics,
               Metric("{\"gauge\":{\"dataPoints\":[{\"exemplars\":[{\"traceId\":\"0\"}]}]}}"),
               "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].exemplars[0]."
               "traceId: expected 32 hex digits"});
  return c;
}

TEST(DecodeJson, RejectsBadInputWithFieldPath) {
  for (const BadJson& c : BadCases()) {
    SCOPED_TRACE(c.name);
    auto d = DecodeWith(true, c.signal, c.body);
    ASSERT_FALSE(d.status.ok());
    EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
    const std::string& m = d.status.message();
    if (c.message.size() >= 3 && c.message.compare(c.message.size() - 3, 3, "...") == 0) {
      std::string prefix = c.message.substr(0, c.message.size() - 3);
      EXPECT_EQ(m.rfind(prefix, 0), 0u) << m;
    } else {
      EXPECT_EQ(m, c.message);
    }
    EXPECT_EQ(d.batch.ItemCount(), 0u);
    EXPECT_TRUE(d.batch.resources.empty());
  }
}

TEST(DecodeJson, NestingLimitMatchesTheProtoDecoder) {
  auto ok = DecodeWith(true, Signal::kTraces, Attr(NestedArrayJson(31)));
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();
  auto bad = DecodeWith(true, Signal::kTraces, Attr(NestedArrayJson(32)));
  ASSERT_FALSE(bad.status.ok());
  EXPECT_NE(bad.status.message().find("values nest deeper than 32 levels"), std::string::npos);
}

TEST(DecodeJson, AcceptsSnakeCaseUppercaseHexAndNumbersEitherWay) {
  std::string camel = Spans(
      "{\"traceId\":\"5b8efff798038103d269b633813fc60c\",\"spanId\":\"eee19b7ec3c1b174\","
      "\"parentSpanId\":\"0102030405060708\",\"startTimeUnixNano\":\"1544712660000000000\","
      "\"endTimeUnixNano\":\"1544712661000000000\",\"droppedAttributesCount\":2,\"kind\":2,"
      "\"status\":{\"code\":2,\"message\":\"m\"},\"name\":\"n\",\"traceState\":\"a=b\","
      "\"attributes\":[{\"key\":\"i\",\"value\":{\"intValue\":\"-5\"}},"
      "{\"key\":\"d\",\"value\":{\"doubleValue\":2.5}}]}");
  std::string snake = Spans(
      "{\"trace_id\":\"5B8EFFF798038103D269B633813FC60C\",\"span_id\":\"EEE19b7ec3c1b174\","
      "\"parent_span_id\":\"0102030405060708\",\"start_time_unix_nano\":1544712660000000000,"
      "\"end_time_unix_nano\":1544712661000000000,\"dropped_attributes_count\":\"2\","
      "\"kind\":\"SPAN_KIND_SERVER\",\"status\":{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"m\"},"
      "\"name\":\"n\",\"trace_state\":\"a=b\",\"attributes\":[{\"key\":\"i\",\"value\":"
      "{\"int_value\":-5}},{\"key\":\"d\",\"value\":{\"double_value\":\"2.5\"}}]}");
  snake.replace(snake.find("resourceSpans"), 13, "resource_spans");
  snake.replace(snake.find("scopeSpans"), 10, "scope_spans");
  auto a = DecodeWith(true, Signal::kTraces, camel);
  auto b = DecodeWith(true, Signal::kTraces, snake);
  ASSERT_TRUE(a.status.ok()) << a.status.ToString();
  ASSERT_TRUE(b.status.ok()) << b.status.ToString();
  ASSERT_EQ(a.batch.spans.size(), 1u);
  EXPECT_EQ(CanonicalDump(Signal::kTraces, a.batch), CanonicalDump(Signal::kTraces, b.batch));
  const otlp::Span& s = a.batch.spans[0];
  EXPECT_EQ(HexId(s.trace_id), "5b8efff798038103d269b633813fc60c");
  EXPECT_EQ(s.start_time_unix_nano, 1544712660000000000ull);
  EXPECT_EQ(s.kind, SpanKind::kServer);
  EXPECT_EQ(s.status_code, SpanStatusCode::kError);
  EXPECT_EQ(s.dropped_attributes_count, 2u);
}

TEST(DecodeJson, IgnoresUnknownKeysAndNulls) {
  std::string body =
      "{\"resourceSpans\":[{\"future\":{\"x\":[1,2,{\"y\":null}]},\"resource\":{\"attributes\":"
      "null,\"entityRefs\":[{\"type\":\"service\"}],\"schemaUrl\":\"ignored here\"},"
      "\"scopeSpans\":[{\"scope\":null,\"spans\":[{\"traceId\":\"" +
      std::string(kTraceId) + "\",\"spanId\":\"" + kSpanId +
      "\",\"name\":null,\"kind\":null,\"extra\":true,\"status\":{},\"events\":null,"
      "\"links\":[]}]}],\"schemaUrl\":\"https://s\"}],\"unknownTop\":1}";
  auto d = DecodeWith(true, Signal::kTraces, body);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.spans.size(), 1u);
  EXPECT_EQ(d.batch.spans[0].name, "");
  EXPECT_EQ(d.batch.resources[0].schema_url, "https://s");
}

TEST(DecodeJson, DoublesAcceptSpecialStrings) {
  std::string body = Metric(
      "{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"asDouble\":\"NaN\"},{\"asDouble\":"
      "\"Infinity\"},{\"asDouble\":\"-Infinity\"},{\"asDouble\":\"1.25\"},{\"asDouble\":3},"
      "{\"asDouble\":-0.0},{\"asInt\":\"-7\"},{\"asInt\":8}]}}");
  auto d = DecodeWith(true, Signal::kMetrics, body);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.points.size(), 8u);
  EXPECT_TRUE(std::isnan(d.batch.points[0].as_double));
  EXPECT_EQ(d.batch.points[1].as_double, std::numeric_limits<double>::infinity());
  EXPECT_EQ(d.batch.points[2].as_double, -std::numeric_limits<double>::infinity());
  EXPECT_EQ(d.batch.points[3].as_double, 1.25);
  EXPECT_EQ(d.batch.points[4].as_double, 3.0);
  EXPECT_TRUE(std::signbit(d.batch.points[5].as_double));
  EXPECT_EQ(d.batch.points[6].value_kind, NumberKind::kInt);
  EXPECT_EQ(d.batch.points[6].as_int, -7);
  EXPECT_EQ(d.batch.points[7].as_int, 8);
}

TEST(DecodeJson, SeverityAndTemporalityNames) {
  auto l = DecodeWith(true, Signal::kLogs,
                      Log("{\"severityNumber\":\"SEVERITY_NUMBER_WARN2\",\"body\":{}},"
                          "{\"severityNumber\":\"SEVERITY_NUMBER_FATAL4\"},"
                          "{\"severityNumber\":\"SEVERITY_NUMBER_TRACE\"},{\"severityNumber\":9}"));
  ASSERT_TRUE(l.status.ok()) << l.status.ToString();
  ASSERT_EQ(l.batch.logs.size(), 4u);
  EXPECT_EQ(l.batch.logs[0].severity_number, 14);
  EXPECT_EQ(l.batch.logs[0].body, "");  // an empty AnyValue is no body
  EXPECT_EQ(l.batch.logs[1].severity_number, 24);
  EXPECT_EQ(l.batch.logs[2].severity_number, 1);
  EXPECT_EQ(l.batch.logs[3].severity_number, 9);
  auto m = DecodeWith(true, Signal::kMetrics,
                      Metric("{\"name\":\"s\",\"sum\":{\"aggregationTemporality\":"
                             "\"AGGREGATION_TEMPORALITY_DELTA\",\"isMonotonic\":true,"
                             "\"dataPoints\":[{\"asInt\":\"1\"}]}}"));
  ASSERT_TRUE(m.status.ok()) << m.status.ToString();
  EXPECT_EQ(m.batch.metrics[0].temporality, Temporality::kDelta);
  EXPECT_TRUE(m.batch.metrics[0].is_monotonic);
}

TEST(DecodeJson, BytesAcceptStandardAndUrlSafeBase64) {
  for (const char* b64 : {"+/8=", "+/8", "-_8", "-_8="}) {
    auto d =
        DecodeWith(true, Signal::kTraces, Attr(std::string("{\"bytesValue\":\"") + b64 + "\"}"));
    ASSERT_TRUE(d.status.ok()) << b64 << ": " << d.status.ToString();
    ValueView v;
    ASSERT_TRUE(FindAttribute(d.batch.spans[0].attributes.encoded, "k", &v));
    EXPECT_EQ(v.type, ValueType::kBytes);
    EXPECT_EQ(v.bytes, std::string("\xfb\xff", 2)) << b64;
  }
}

TEST(DecodeJson, EmptyIdStringsMeanAbsent) {
  auto d = DecodeWith(
      true, Signal::kTraces,
      Spans(std::string("{\"traceId\":\"") + kTraceId + "\",\"spanId\":\"" + kSpanId +
            "\",\"parentSpanId\":\"\"},{\"traceId\":\"\",\"spanId\":\"" + kSpanId + "\"}"));
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.batch.spans.size(), 1u);
  EXPECT_TRUE(IsZeroId(d.batch.spans[0].parent_span_id));
  EXPECT_EQ(d.outcome.rejected, 1);
  EXPECT_EQ(d.outcome.error_message,
            "resourceSpans[0].scopeSpans[0].spans[1].traceId: must be a 16-byte id, not all zeros");
}

// The partial-success rules are shared: the same defect gives the same count and message from
// both decoders.
TEST(DecodeJson, PartialSuccessMatchesTheProtoDecoder) {
  struct Case {
    Signal signal;
    std::string json;
  };
  const Case cases[] = {
      {Signal::kTraces, Span("\"kind\":9")},
      {Signal::kTraces, Span("\"status\":{\"code\":3}")},
      {Signal::kTraces, Spans("{\"traceId\":\"00000000000000000000000000000000\",\"spanId\":\"" +
                              std::string(kSpanId) + "\"}")},
      {Signal::kTraces, Spans(std::string("{\"traceId\":\"") + kTraceId + "\"}")},
      {Signal::kMetrics, Metric("{\"name\":\"h\",\"histogram\":{\"aggregationTemporality\":2,"
                                "\"dataPoints\":[{\"bucketCounts\":[1,2,3],\"explicitBounds\":[1]}"
                                ",{\"count\":1}]}}")},
      {Signal::kMetrics, Metric("{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{"
                                "\"explicitBounds\":[1,\"NaN\"]}]}}")},
      {Signal::kMetrics, Metric("{\"gauge\":{\"dataPoints\":[{\"asDouble\":1},{\"asInt\":2}]}}")},
      {Signal::kMetrics, Metric("{\"name\":\"g\",\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":"
                                "\"5\"}]}}")},
      {Signal::kMetrics, Metric("{\"name\":\"s\",\"sum\":{\"aggregationTemporality\":4,"
                                "\"dataPoints\":[{\"asInt\":1}]}}")},
      {Signal::kMetrics, Metric("{\"name\":\"e\",\"exponentialHistogram\":{\"dataPoints\":[{"
                                "\"scale\":-11}]}}")},
      {Signal::kMetrics, Metric("{\"name\":\"q\",\"summary\":{\"dataPoints\":[{"
                                "\"quantileValues\":[{\"quantile\":-0.5}]}]}}")},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.json);
    auto j = DecodeWith(true, c.signal, c.json);
    ASSERT_TRUE(j.status.ok()) << j.status.ToString();
    EXPECT_GT(j.outcome.rejected, 0);
    EXPECT_FALSE(j.outcome.error_message.empty());
  }
  // Exact messages for a few, identical to the proto table's.
  auto kind = DecodeWith(true, Signal::kTraces, Span("\"kind\":9"));
  EXPECT_EQ(kind.outcome.error_message, kSpanPath + "kind: unknown value (expected 0 to 5)");
  auto status = DecodeWith(true, Signal::kTraces, Span("\"status\":{\"code\":3}"));
  EXPECT_EQ(status.outcome.error_message,
            kSpanPath + "status.code: unknown value (expected 0, 1 or 2)");
  auto hist = DecodeWith(true, Signal::kMetrics, cases[4].json);
  EXPECT_EQ(hist.outcome.rejected, 1);
  EXPECT_EQ(hist.batch.points.size(), 1u);
  EXPECT_EQ(hist.outcome.error_message,
            "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].bucketCounts: "
            "must have one more entry than explicitBounds (or none)");
  auto unnamed = DecodeWith(true, Signal::kMetrics, cases[6].json);
  EXPECT_EQ(unnamed.outcome.rejected, 2);
  EXPECT_EQ(unnamed.outcome.error_message,
            "resourceMetrics[0].scopeMetrics[0].metrics[0].name: must not be empty");
  EXPECT_TRUE(unnamed.batch.metrics.empty());
}

TEST(DecodeJson, AnyValueEdgeCases) {
  auto d = DecodeWith(
      true, Signal::kTraces,
      Span("\"attributes\":[{\"key\":\"s\",\"value\":{\"stringValue\":\"\"}},"
           "{\"key\":\"e\",\"value\":{}},{\"key\":\"nv\"},"
           "{\"key\":\"esc\",\"value\":{\"stringValue\":\"\\u00e9\\ud83c\\udfac\\n\\\"\"}},"
           "{\"key\":\"b\",\"value\":{\"boolValue\":false}},"
           "{\"key\":\"a\",\"value\":{\"arrayValue\":{}}},"
           "{\"key\":\"m\",\"value\":{\"kvlistValue\":{\"values\":[]}}},"
           "{\"key\":\"big\",\"value\":{\"intValue\":\"-9223372036854775808\"}}]"));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  std::vector<std::string> seen;
  ASSERT_TRUE(VisitAttributes(d.batch.spans[0].attributes.encoded, [&](std::string_view k,
                                                                       const ValueView& v) {
                seen.push_back(std::string(k) + ":" + std::to_string(static_cast<int>(v.type)) +
                               ":" + ValueToText(v));
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"s:1:", "e:0:", "nv:0:", "esc:1:é🎬\n\"", "b:2:false",
                                            "a:6:[]", "m:7:{}", "big:3:-9223372036854775808"}));
  EXPECT_EQ(d.batch.spans[0].attributes.count, 8u);
}

}  // namespace
}  // namespace avtrace::otlp
