#include <gtest/gtest.h>

#include "otlp/otlp_testing.h"

namespace avtrace::otlp {
namespace {

using testing::DecodeWith;
using testing::Request;
using testing::ValidSpanIds;

std::string Cut(std::string s, size_t n) {
  s.resize(s.size() - n);
  return s;
}

// A request whose single span is built by `span`.
std::string SpanRequest(const testing::Build& span) { return Request(span); }

// A metrics request with one metric built by `metric`.
std::string MetricRequest(const testing::Build& metric) { return Request(metric); }

std::string HistogramPoint(const testing::Build& point) {
  return MetricRequest([&](WireWriter& m) {
    m.BytesField(1, "h");
    m.Message(9, [&](WireWriter& h) {
      h.Message(1, [&](WireWriter& p) { point(p); });
      h.VarintField(2, 2);
    });
  });
}

// Nests `depth` arrayValues around a string.
std::string NestedArray(int depth) {
  std::string v = EncodeStringValue("leaf");
  for (int i = 0; i < depth; ++i) {
    std::string elems;
    AppendArrayElement(&elems, v);
    v = EncodeArrayValue(elems);
  }
  return v;
}

struct BadCase {
  const char* name;
  Signal signal;
  std::string body;
  const char* message;  // exact expected Status message
};

std::vector<BadCase> BadCases() {
  std::vector<BadCase> cases;
  std::string good = SpanRequest([](WireWriter& s) {
    ValidSpanIds(s);
    s.BytesField(5, "name");
  });
  cases.push_back({"truncated body", Signal::kTraces, Cut(good, 1),
                   "resourceSpans: length exceeds the remaining input"});
  cases.push_back(
      {"truncated tag", Signal::kTraces, std::string("\x0a\x00\x80", 3), "truncated varint"});
  cases.push_back(
      {"field number zero", Signal::kTraces, std::string("\x00\x01", 2), "invalid field tag"});
  cases.push_back({"group wire type", Signal::kTraces, std::string("\x13", 1),
                   "field 2: groups are not supported"});
  cases.push_back({"resourceSpans not length-delimited", Signal::kTraces,
                   std::string("\x08\x01", 2),
                   "resourceSpans: wrong wire type for field 1 (expected length-delimited)"});
  cases.push_back({"span start time as varint", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     ValidSpanIds(s);
                     s.VarintField(7, 5);
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano: wrong wire type "
                   "for field 7 (expected fixed64)"});
  cases.push_back({"span flags as fixed64", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     ValidSpanIds(s);
                     s.Fixed64Field(16, 1);
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].flags: wrong wire type for field 16 "
                   "(expected fixed32)"});
  cases.push_back({"span kind as length-delimited", Signal::kTraces,
                   SpanRequest([](WireWriter& s) { s.BytesField(6, "x"); }),
                   "resourceSpans[0].scopeSpans[0].spans[0].kind: wrong wire type for field 6 "
                   "(expected varint)"});
  cases.push_back({"invalid UTF-8 span name", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     ValidSpanIds(s);
                     s.BytesField(5, "bad \xc3\x28 name");
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].name: invalid UTF-8"});
  cases.push_back({"overlong UTF-8", Signal::kTraces,
                   SpanRequest([](WireWriter& s) { s.BytesField(5, "\xc0\xaf"); }),
                   "resourceSpans[0].scopeSpans[0].spans[0].name: invalid UTF-8"});
  cases.push_back({"UTF-16 surrogate in UTF-8", Signal::kTraces,
                   SpanRequest([](WireWriter& s) { s.BytesField(3, "\xed\xa0\x80"); }),
                   "resourceSpans[0].scopeSpans[0].spans[0].traceState: invalid UTF-8"});
  {
    std::string huge;
    WireWriter w(&huge);
    w.Tag(5, WireType::kLen);
    w.Varint(0xFFFFFFFFFFull);
    cases.push_back({"huge length", Signal::kTraces,
                     SpanRequest([&](WireWriter& s) { s.Raw(huge.data(), huge.size()); }),
                     "resourceSpans[0].scopeSpans[0].spans[0].name: length exceeds the "
                     "remaining input"});
  }
  cases.push_back({"varint over 64 bits", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.Tag(6, WireType::kVarint);
                     s.Raw("\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].kind: varint overflows 64 bits"});
  cases.push_back({"truncated fixed64", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.Tag(8, WireType::kFixed64);
                     s.Raw("\x01\x02\x03", 3);
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano: truncated fixed64"});
  cases.push_back({"event name invalid UTF-8", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     ValidSpanIds(s);
                     s.Message(11, [](WireWriter& e) { e.BytesField(2, "ok"); });
                     s.Message(11, [](WireWriter& e) { e.BytesField(2, "\xff"); });
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].events[1].name: invalid UTF-8"});
  cases.push_back({"attribute key invalid UTF-8", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     ValidSpanIds(s);
                     s.Message(9, [](WireWriter& kv) {
                       kv.BytesField(1, "fine");
                       kv.BytesField(2, EncodeStringValue("v"));
                     });
                     s.Message(9, [](WireWriter& kv) {
                       kv.BytesField(1, "bad\x80");
                       kv.BytesField(2, EncodeStringValue("v"));
                     });
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].attributes[1].key: invalid UTF-8"});
  {
    std::string elems;
    AppendArrayElement(&elems, EncodeStringValue("\xe2\x82"));  // truncated 3-byte sequence
    std::string kvs;
    AttrWriter k(&kvs);
    k.Int("ok", 1);
    k.Raw("list", EncodeArrayValue(elems));
    std::string value = EncodeKvListValue(kvs);
    cases.push_back({"nested attribute value invalid UTF-8", Signal::kTraces,
                     SpanRequest([&](WireWriter& s) {
                       ValidSpanIds(s);
                       s.Message(9, [&](WireWriter& kv) {
                         kv.BytesField(1, "map");
                         kv.BytesField(2, value);
                       });
                     }),
                     "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.kvlistValue."
                     "values[1].value.arrayValue.values[0].stringValue: invalid UTF-8"});
  }
  cases.push_back({"attribute double with varint wire type", Signal::kTraces,
                   SpanRequest([](WireWriter& s) {
                     s.Message(9, [](WireWriter& kv) {
                       kv.BytesField(1, "d");
                       kv.Message(2, [](WireWriter& v) { v.VarintField(4, 1); });
                     });
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.doubleValue: "
                   "wrong wire type for field 4 (expected double)"});
  cases.push_back({"kvlist with a foreign field", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.Message(9, [](WireWriter& kv) {
                       kv.BytesField(1, "m");
                       kv.Message(2, [](WireWriter& v) {
                         v.Message(6, [](WireWriter& l) { l.VarintField(2, 1); });
                       });
                     });
                   }),
                   "resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.kvlistValue: "
                   "unexpected field in KeyValueList (only values = 1)"});
  {
    std::string deep = NestedArray(40);
    cases.push_back({"nesting too deep", Signal::kTraces, SpanRequest([&](WireWriter& s) {
                       s.Message(9, [&](WireWriter& kv) {
                         kv.BytesField(1, "deep");
                         kv.BytesField(2, deep);
                       });
                     }),
                     nullptr});  // checked by prefix below
  }
  cases.push_back({"resource attributes not length-delimited", Signal::kTraces,
                   [] {
                     std::string out;
                     WireWriter w(&out);
                     w.Message(1, [](WireWriter& r) {
                       r.Message(1, [](WireWriter& res) { res.VarintField(1, 3); });
                     });
                     return out;
                   }(),
                   "resourceSpans[0].resource.attributes: wrong wire type for field 1 (expected "
                   "length-delimited)"});
  cases.push_back({"scope name invalid UTF-8", Signal::kLogs,
                   [] {
                     std::string out;
                     WireWriter w(&out);
                     w.Message(1, [](WireWriter& r) {
                       r.Message(2, [](WireWriter& s) {
                         s.Message(1, [](WireWriter& sc) { sc.BytesField(1, "\xfe"); });
                       });
                     });
                     return out;
                   }(),
                   "resourceLogs[0].scopeLogs[0].scope.name: invalid UTF-8"});
  cases.push_back({"schema url invalid UTF-8", Signal::kMetrics,
                   [] {
                     std::string out;
                     WireWriter w(&out);
                     w.Message(1, [](WireWriter& r) { r.BytesField(3, "\xff"); });
                     return out;
                   }(),
                   "resourceMetrics[0].schemaUrl: invalid UTF-8"});
  cases.push_back({"log body invalid UTF-8", Signal::kLogs,
                   Request([](WireWriter& l) { l.BytesField(5, EncodeStringValue("\xff")); }),
                   "resourceLogs[0].scopeLogs[0].logRecords[0].body.stringValue: invalid UTF-8"});
  cases.push_back({"log severity text invalid UTF-8", Signal::kLogs,
                   Request([](WireWriter& l) { l.BytesField(3, "\x80"); }),
                   "resourceLogs[0].scopeLogs[0].logRecords[0].severityText: invalid UTF-8"});
  cases.push_back({"log time as fixed32", Signal::kLogs,
                   Request([](WireWriter& l) { l.Fixed32Field(1, 1); }),
                   "resourceLogs[0].scopeLogs[0].logRecords[0].timeUnixNano: wrong wire type for "
                   "field 1 (expected fixed64)"});
  cases.push_back({"metric name invalid UTF-8", Signal::kMetrics,
                   MetricRequest([](WireWriter& m) { m.BytesField(1, "\xc3"); }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].name: invalid UTF-8"});
  cases.push_back({"packed fixed64 with a bad length", Signal::kMetrics,
                   HistogramPoint([](WireWriter& p) { p.BytesField(6, "1234567"); }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]."
                   "bucketCounts: packed length is not a multiple of 8"});
  cases.push_back({"bucket counts as fixed32", Signal::kMetrics,
                   HistogramPoint([](WireWriter& p) { p.Fixed32Field(6, 1); }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0]."
                   "bucketCounts: wrong wire type for field 6 (expected packed fixed64 or "
                   "fixed64)"});
  cases.push_back({"histogram sum as varint", Signal::kMetrics,
                   HistogramPoint([](WireWriter& p) { p.VarintField(5, 1); }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].sum: "
                   "wrong wire type for field 5 (expected double)"});
  cases.push_back(
      {"exp histogram scale as fixed64", Signal::kMetrics, MetricRequest([](WireWriter& m) {
         m.BytesField(1, "e");
         m.Message(
             10, [](WireWriter& h) { h.Message(1, [](WireWriter& p) { p.Fixed64Field(6, 1); }); });
       }),
       "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram."
       "dataPoints[0].scale: wrong wire type for field 6 (expected varint)"});
  cases.push_back({"truncated packed varint", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "e");
                     m.Message(10, [](WireWriter& h) {
                       h.Message(1, [](WireWriter& p) {
                         p.Message(8, [](WireWriter& b) { b.BytesField(2, "\x01\x80"); });
                       });
                     });
                   }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram."
                   "dataPoints[0].positive.bucketCounts: truncated varint"});
  cases.push_back({"exemplar trace id as varint", Signal::kMetrics,
                   MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "g");
                     m.Message(5, [](WireWriter& g) {
                       g.Message(1, [](WireWriter& p) {
                         p.DoubleField(4, 1);
                         p.Message(5, [](WireWriter& e) { e.VarintField(5, 1); });
                       });
                     });
                   }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]."
                   "exemplars[0].traceId: wrong wire type for field 5 (expected "
                   "length-delimited)"});
  cases.push_back({"summary quantile truncated", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "s");
                     m.Message(11, [](WireWriter& s) {
                       s.Message(1, [](WireWriter& p) {
                         p.Message(6, [](WireWriter& q) {
                           q.Tag(1, WireType::kFixed64);
                           q.Raw("\0\0", 2);
                         });
                       });
                     });
                   }),
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0]."
                   "quantileValues[0].quantile: truncated fixed64"});
  return cases;
}

TEST(DecodeProto, RejectsBadInputWithFieldPath) {
  for (const BadCase& c : BadCases()) {
    SCOPED_TRACE(c.name);
    auto d = DecodeWith(false, c.signal, c.body);
    ASSERT_FALSE(d.status.ok());
    EXPECT_EQ(d.status.code(), StatusCode::kInvalidArgument);
    if (c.message) {
      EXPECT_EQ(d.status.message(), c.message);
    } else {
      EXPECT_NE(d.status.message().find("values nest deeper than 32 levels"), std::string::npos)
          << d.status.message();
      EXPECT_EQ(d.status.message().rfind("resourceSpans[0].scopeSpans[0].spans[0].attributes[0]."
                                         "value.arrayValue.values[0].arrayValue",
                                         0),
                0u)
          << d.status.message();
    }
    // Nothing of a failed request stays in the batch.
    EXPECT_EQ(d.batch.ItemCount(), 0u);
    EXPECT_TRUE(d.batch.resources.empty());
    EXPECT_EQ(d.outcome.rejected, 0);
  }
}

TEST(DecodeProto, NestingUpToTheLimitIsAccepted) {
  std::string ok = NestedArray(31);  // the attribute value is depth 1: 31 arrays reach depth 32
  auto d = DecodeWith(false, Signal::kTraces, SpanRequest([&](WireWriter& s) {
                        ValidSpanIds(s);
                        s.Message(9, [&](WireWriter& kv) {
                          kv.BytesField(1, "deep");
                          kv.BytesField(2, ok);
                        });
                      }));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.spans.size(), 1u);
  std::string bad = NestedArray(32);
  auto e = DecodeWith(false, Signal::kTraces, SpanRequest([&](WireWriter& s) {
                        ValidSpanIds(s);
                        s.Message(9, [&](WireWriter& kv) {
                          kv.BytesField(1, "deep");
                          kv.BytesField(2, bad);
                        });
                      }));
  EXPECT_FALSE(e.status.ok());
}

struct PartialCase {
  const char* name;
  Signal signal;
  std::string body;
  int64_t rejected;
  size_t kept;
  const char* message;
};

std::vector<PartialCase> PartialCases() {
  std::vector<PartialCase> cases;
  auto span = [](const testing::Build& extra) {
    return SpanRequest([&](WireWriter& s) {
      ValidSpanIds(s);
      extra(s);
    });
  };
  const char* kSpan = "resourceSpans[0].scopeSpans[0].spans[0].";
  auto msg = [](const char* prefix, const char* rest) { return std::string(prefix) + rest; };
  static std::vector<std::string> messages;  // keeps c_str()s alive
  messages.reserve(64);
  auto keep = [&](std::string s) { return messages.emplace_back(std::move(s)).c_str(); };

  cases.push_back({"short trace id", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.BytesField(1, std::string(15, '\x01'));
                     s.BytesField(2, std::string(8, '\x01'));
                   }),
                   1, 0, keep(msg(kSpan, "traceId: must be 16 bytes"))});
  cases.push_back({"missing trace id", Signal::kTraces,
                   SpanRequest([](WireWriter& s) { s.BytesField(2, std::string(8, '\x01')); }), 1,
                   0, keep(msg(kSpan, "traceId: must be 16 bytes"))});
  cases.push_back({"zero trace id", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.BytesField(1, std::string(16, '\0'));
                     s.BytesField(2, std::string(8, '\x01'));
                   }),
                   1, 0, keep(msg(kSpan, "traceId: must be a 16-byte id, not all zeros"))});
  cases.push_back({"zero span id", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.BytesField(1, std::string(16, '\x01'));
                     s.BytesField(2, std::string(8, '\0'));
                   }),
                   1, 0, keep(msg(kSpan, "spanId: must be an 8-byte id, not all zeros"))});
  cases.push_back({"long span id", Signal::kTraces, SpanRequest([](WireWriter& s) {
                     s.BytesField(1, std::string(16, '\x01'));
                     s.BytesField(2, std::string(9, '\x01'));
                   }),
                   1, 0, keep(msg(kSpan, "spanId: must be 8 bytes"))});
  cases.push_back({"bad parent id", Signal::kTraces,
                   span([](WireWriter& s) { s.BytesField(4, "1234"); }), 1, 0,
                   keep(msg(kSpan, "parentSpanId: must be empty or 8 bytes"))});
  cases.push_back({"unknown kind", Signal::kTraces,
                   span([](WireWriter& s) { s.VarintField(6, 9); }), 1, 0,
                   keep(msg(kSpan, "kind: unknown value (expected 0 to 5)"))});
  cases.push_back({"unknown status code", Signal::kTraces, span([](WireWriter& s) {
                     s.Message(15, [](WireWriter& st) { st.VarintField(3, 5); });
                   }),
                   1, 0, keep(msg(kSpan, "status.code: unknown value (expected 0, 1 or 2)"))});
  cases.push_back({"bad link id", Signal::kTraces, span([](WireWriter& s) {
                     s.Message(13, [](WireWriter& l) { l.BytesField(1, "abc"); });
                   }),
                   1, 0, keep(msg(kSpan, "links[0].traceId: must be empty or 16 bytes"))});
  {
    std::string body;
    WireWriter w(&body);
    w.Message(1, [](WireWriter& r) {
      r.Message(2, [](WireWriter& s) {
        for (int i = 0; i < 4; ++i) {
          s.Message(2, [&](WireWriter& sp) {
            sp.BytesField(1, std::string(16, i == 2 ? '\0' : '\x05'));
            sp.BytesField(2, std::string(8, static_cast<char>(i + 1)));
          });
        }
      });
    });
    cases.push_back({"one bad span among four", Signal::kTraces, body, 1, 3,
                     "resourceSpans[0].scopeSpans[0].spans[2].traceId: must be a 16-byte id, "
                     "not all zeros"});
  }
  cases.push_back({"log with a short trace id", Signal::kLogs, Request([](WireWriter& l) {
                     l.BytesField(9, "12345");
                     l.BytesField(5, EncodeStringValue("x"));
                   }),
                   1, 0,
                   "resourceLogs[0].scopeLogs[0].logRecords[0].traceId: must be empty or 16 "
                   "bytes"});
  cases.push_back({"log with a long span id", Signal::kLogs,
                   Request([](WireWriter& l) { l.BytesField(10, std::string(9, 'x')); }), 1, 0,
                   "resourceLogs[0].scopeLogs[0].logRecords[0].spanId: must be empty or 8 bytes"});
  const char* kHist = "resourceMetrics[0].scopeMetrics[0].metrics[0].histogram.dataPoints[0].";
  cases.push_back({"bucket counts vs bounds", Signal::kMetrics, HistogramPoint([](WireWriter& p) {
                     p.Fixed64Field(6, 1);
                     p.Fixed64Field(6, 1);
                     p.DoubleField(7, 1.0);
                     p.DoubleField(7, 2.0);
                   }),
                   1, 0,
                   keep(msg(kHist,
                            "bucketCounts: must have one more entry than explicitBounds (or "
                            "none)"))});
  cases.push_back({"bounds not increasing", Signal::kMetrics, HistogramPoint([](WireWriter& p) {
                     p.DoubleField(7, 2.0);
                     p.DoubleField(7, 2.0);
                   }),
                   1, 0,
                   keep(msg(kHist, "explicitBounds: must be strictly increasing and not NaN"))});
  cases.push_back({"empty metric name", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.Message(5, [](WireWriter& g) {
                       g.Message(1, [](WireWriter& p) { p.DoubleField(4, 1); });
                       g.Message(1, [](WireWriter& p) { p.DoubleField(4, 2); });
                     });
                   }),
                   2, 0, "resourceMetrics[0].scopeMetrics[0].metrics[0].name: must not be empty"});
  cases.push_back({"unknown temporality", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "s");
                     m.Message(7, [](WireWriter& g) {
                       g.Message(1, [](WireWriter& p) { p.DoubleField(4, 1); });
                       g.VarintField(2, 7);
                     });
                   }),
                   1, 0,
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].aggregationTemporality: unknown "
                   "value (expected 0, 1 or 2)"});
  cases.push_back({"number point without value", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "g");
                     m.Message(5, [](WireWriter& g) {
                       g.Message(1, [](WireWriter& p) { p.Fixed64Field(3, 9); });
                       g.Message(1, [](WireWriter& p) { p.Fixed64Field(6, 9); });
                     });
                   }),
                   1, 1,
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].value: "
                   "missing: neither asDouble nor asInt is set and flags lacks NO_RECORDED_VALUE"});
  cases.push_back({"exp scale out of range", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "e");
                     m.Message(10, [](WireWriter& h) {
                       h.Message(1, [](WireWriter& p) { p.VarintField(6, ZigZagEncode32(21)); });
                       h.Message(1, [](WireWriter& p) { p.VarintField(6, ZigZagEncode32(-10)); });
                     });
                   }),
                   1, 1,
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].exponentialHistogram."
                   "dataPoints[0].scale: must be in [-10, 20]"});
  cases.push_back({"summary quantile above 1", Signal::kMetrics, MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "s");
                     m.Message(11, [](WireWriter& s) {
                       s.Message(1, [](WireWriter& p) {
                         p.Message(6, [](WireWriter& q) { q.DoubleField(1, 1.5); });
                       });
                     });
                   }),
                   1, 0,
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].summary.dataPoints[0]."
                   "quantileValues: quantile must be in [0, 1]"});
  cases.push_back({"exemplar with a bad span id", Signal::kMetrics,
                   MetricRequest([](WireWriter& m) {
                     m.BytesField(1, "g");
                     m.Message(5, [](WireWriter& g) {
                       g.Message(1, [](WireWriter& p) {
                         p.DoubleField(4, 1);
                         p.Message(5, [](WireWriter& e) { e.BytesField(4, "123"); });
                       });
                     });
                   }),
                   1, 0,
                   "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0]."
                   "exemplars[0].spanId: must be empty or 8 bytes"});
  return cases;
}

TEST(DecodeProto, PartialSuccessDropsAndCountsInvalidItems) {
  for (const PartialCase& c : PartialCases()) {
    SCOPED_TRACE(c.name);
    auto d = DecodeWith(false, c.signal, c.body);
    ASSERT_TRUE(d.status.ok()) << d.status.ToString();
    EXPECT_EQ(d.outcome.rejected, c.rejected);
    EXPECT_EQ(d.outcome.error_message, c.message);
    size_t kept = c.signal == Signal::kMetrics ? d.batch.points.size() : d.batch.ItemCount();
    EXPECT_EQ(kept, c.kept);
    if (c.kept == 0) {
      // Nothing left under the resource: the envelope is dropped too.
      EXPECT_TRUE(d.batch.resources.empty());
      EXPECT_TRUE(d.batch.scopes.empty());
      EXPECT_TRUE(d.batch.metrics.empty());
    }
    // Re-encoding what was kept decodes without rejects.
    if (c.kept > 0) {
      auto again = DecodeWith(false, c.signal, EncodeProto(c.signal, d.batch));
      ASSERT_TRUE(again.status.ok());
      EXPECT_EQ(again.outcome.rejected, 0);
    }
  }
}

TEST(DecodeProto, FirstReasonWinsAndCountsAccumulate) {
  std::string body;
  WireWriter w(&body);
  w.Message(1, [](WireWriter& r) {
    r.Message(2, [](WireWriter& s) {
      s.Message(2, [](WireWriter& sp) { sp.BytesField(1, "x"); });
      s.Message(2, [](WireWriter& sp) {
        ValidSpanIds(sp);
        sp.VarintField(6, 77);
      });
    });
  });
  auto d = DecodeWith(false, Signal::kTraces, body);
  ASSERT_TRUE(d.status.ok());
  EXPECT_EQ(d.outcome.rejected, 2);
  EXPECT_EQ(d.outcome.error_message,
            "resourceSpans[0].scopeSpans[0].spans[0].traceId: must be 16 bytes");
}

TEST(DecodeProto, EmptyRequestIsFine) {
  for (Signal s : {Signal::kTraces, Signal::kMetrics, Signal::kLogs}) {
    auto d = DecodeWith(false, s, "");
    EXPECT_TRUE(d.status.ok());
    EXPECT_EQ(d.batch.ItemCount(), 0u);
    EXPECT_EQ(EncodeProto(s, d.batch), "");
  }
}

TEST(DecodeProto, SkipsUnknownFieldsOfEveryWireType) {
  auto unknown = [](WireWriter& w) {
    w.VarintField(90, 1);
    w.Fixed64Field(91, 2);
    w.Fixed32Field(92, 3);
    w.BytesField(93, "junk \xff not utf8");
  };
  std::string body;
  WireWriter w(&body);
  unknown(w);
  w.Message(1, [&](WireWriter& r) {
    unknown(r);
    r.Message(1, [&](WireWriter& res) {
      unknown(res);
      res.Message(3, [](WireWriter& e) { e.BytesField(2, "entity ref, ignored"); });
    });
    r.Message(2, [&](WireWriter& s) {
      unknown(s);
      s.Message(1, [&](WireWriter& sc) {
        unknown(sc);
        sc.BytesField(1, "scope");
      });
      s.Message(2, [&](WireWriter& sp) {
        unknown(sp);
        ValidSpanIds(sp);
        sp.BytesField(5, "span");
        sp.Message(11, [&](WireWriter& e) {
          unknown(e);
          e.BytesField(2, "event");
        });
        sp.Message(13, [&](WireWriter& l) { unknown(l); });
        sp.Message(15, [&](WireWriter& st) {
          unknown(st);
          st.VarintField(1, 2);  // the deprecated code field
          st.VarintField(3, 1);
        });
        sp.Message(9, [&](WireWriter& kv) {
          unknown(kv);
          kv.BytesField(1, "k");
          kv.Message(2, [&](WireWriter& v) {
            v.VarintField(8, 4);  // string_value_strindex (profiles only)
            v.BytesField(1, "v");
          });
        });
      });
    });
  });
  auto d = DecodeWith(false, Signal::kTraces, body);
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.spans.size(), 1u);
  const Span& s = d.batch.spans[0];
  EXPECT_EQ(s.name, "span");
  EXPECT_EQ(s.status_code, SpanStatusCode::kOk);
  ASSERT_EQ(s.events.size(), 1u);
  EXPECT_EQ(s.events[0].name, "event");
  EXPECT_EQ(s.links.size(), 1u);
  ValueView v;
  ASSERT_TRUE(FindAttribute(s.attributes.encoded, "k", &v));
  EXPECT_EQ(v.type, ValueType::kString);
  EXPECT_EQ(v.bytes, "v");
  EXPECT_EQ(d.batch.scopes[0].name, "scope");
}

TEST(DecodeProto, AttributesStayInTheBodyWhenContiguous) {
  std::string body = SpanRequest([](WireWriter& s) {
    ValidSpanIds(s);
    for (int i = 0; i < 3; ++i) {
      s.Message(9, [&](WireWriter& kv) {
        kv.BytesField(1, "k" + std::to_string(i));
        kv.BytesField(2, EncodeIntValue(i));
      });
    }
    s.BytesField(5, "after");
  });
  Batch b;
  std::string_view owned = b.arena.Adopt(body);
  DecodeOutcome o;
  ASSERT_TRUE(DecodeProto(Signal::kTraces, owned, &b, &o).ok());
  const AttrList& attrs = b.spans[0].attributes;
  EXPECT_EQ(attrs.count, 3u);
  EXPECT_GE(attrs.encoded.data(), owned.data());
  EXPECT_LE(attrs.encoded.data() + attrs.encoded.size(), owned.data() + owned.size());
}

TEST(DecodeProto, InterleavedAttributesAreCopiedTogether) {
  std::string body = SpanRequest([](WireWriter& s) {
    ValidSpanIds(s);
    for (int i = 0; i < 4; ++i) {
      s.Message(9, [&](WireWriter& kv) {
        kv.BytesField(1, "k" + std::to_string(i));
        kv.BytesField(2, EncodeIntValue(i));
      });
      if (i % 2 == 0) s.BytesField(5, "name" + std::to_string(i));
    }
  });
  Batch b;
  std::string_view owned = b.arena.Adopt(body);
  DecodeOutcome o;
  ASSERT_TRUE(DecodeProto(Signal::kTraces, owned, &b, &o).ok());
  const Span& s = b.spans[0];
  EXPECT_EQ(s.name, "name2");  // the last occurrence wins
  EXPECT_EQ(s.attributes.count, 4u);
  std::vector<std::string> seen;
  ASSERT_TRUE(VisitAttributes(s.attributes.encoded, [&](std::string_view k, const ValueView& v) {
                seen.push_back(std::string(k) + "=" + ValueToText(v));
              }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"k0=0", "k1=1", "k2=2", "k3=3"}));
  bool inside = s.attributes.encoded.data() >= owned.data() &&
                s.attributes.encoded.data() < owned.data() + owned.size();
  EXPECT_FALSE(inside);
}

TEST(DecodeProto, PackedAndUnpackedRepeatedFieldsAgree) {
  const std::vector<uint64_t> counts = {1, 0, 7, 1ull << 50};
  const std::vector<double> bounds = {-1.5, 0, 2.25};
  const std::vector<uint64_t> exp_counts = {3, 0, 1ull << 35};
  auto build = [&](bool packed) {
    return MetricRequest([&](WireWriter& m) {
      m.BytesField(1, "h");
      m.Message(9, [&](WireWriter& h) {
        h.Message(1, [&](WireWriter& p) {
          p.Fixed64Field(4, 8);
          if (packed) {
            p.Tag(6, WireType::kLen);
            p.Varint(counts.size() * 8);
            p.Raw(counts.data(), counts.size() * 8);
            p.Tag(7, WireType::kLen);
            p.Varint(bounds.size() * 8);
            p.Raw(bounds.data(), bounds.size() * 8);
          } else {
            for (uint64_t c : counts) p.Fixed64Field(6, c);
            for (double d : bounds) p.DoubleField(7, d);
          }
        });
      });
      m.BytesField(1, "h");
    });
  };
  auto build_exp = [&](bool packed) {
    return MetricRequest([&](WireWriter& m) {
      m.BytesField(1, "e");
      m.Message(10, [&](WireWriter& h) {
        h.Message(1, [&](WireWriter& p) {
          p.Message(9, [&](WireWriter& b) {
            b.VarintField(1, ZigZagEncode32(-4));
            if (packed) {
              b.Message(2, [&](WireWriter& v) {
                for (uint64_t c : exp_counts) v.Varint(c);
              });
            } else {
              for (uint64_t c : exp_counts) b.VarintField(2, c);
            }
          });
        });
      });
    });
  };
  auto packed = DecodeWith(false, Signal::kMetrics, build(true));
  auto unpacked = DecodeWith(false, Signal::kMetrics, build(false));
  ASSERT_TRUE(packed.status.ok()) << packed.status.ToString();
  ASSERT_TRUE(unpacked.status.ok()) << unpacked.status.ToString();
  ASSERT_EQ(packed.batch.points.size(), 1u);
  EXPECT_EQ(packed.batch.points[0].bucket_counts, counts);
  EXPECT_EQ(packed.batch.points[0].explicit_bounds, bounds);
  EXPECT_EQ(CanonicalDump(Signal::kMetrics, packed.batch),
            CanonicalDump(Signal::kMetrics, unpacked.batch));

  auto ep = DecodeWith(false, Signal::kMetrics, build_exp(true));
  auto eu = DecodeWith(false, Signal::kMetrics, build_exp(false));
  ASSERT_TRUE(ep.status.ok()) << ep.status.ToString();
  ASSERT_TRUE(eu.status.ok()) << eu.status.ToString();
  ASSERT_EQ(ep.batch.points.size(), 1u);
  EXPECT_EQ(ep.batch.points[0].negative.offset, -4);
  EXPECT_EQ(ep.batch.points[0].negative.bucket_counts, exp_counts);
  EXPECT_EQ(CanonicalDump(Signal::kMetrics, ep.batch), CanonicalDump(Signal::kMetrics, eu.batch));
}

TEST(DecodeProto, MetricDataOneofLastWins) {
  auto d = DecodeWith(false, Signal::kMetrics, MetricRequest([](WireWriter& m) {
                        m.BytesField(1, "changing");
                        m.Message(7, [](WireWriter& s) {
                          s.Message(1, [](WireWriter& p) { p.DoubleField(4, 1); });
                          s.VarintField(2, 1);
                          s.VarintField(3, 1);
                        });
                        m.Message(5, [](WireWriter& g) {
                          g.Message(1, [](WireWriter& p) { p.Fixed64Field(6, 5); });
                        });
                      }));
  ASSERT_TRUE(d.status.ok());
  ASSERT_EQ(d.batch.metrics.size(), 1u);
  EXPECT_EQ(d.batch.metrics[0].type, MetricType::kGauge);
  EXPECT_EQ(d.batch.metrics[0].temporality, Temporality::kUnspecified);
  EXPECT_FALSE(d.batch.metrics[0].is_monotonic);
  ASSERT_EQ(d.batch.points.size(), 1u);
  EXPECT_EQ(d.batch.points[0].value_kind, NumberKind::kInt);
  EXPECT_EQ(d.batch.points[0].as_int, 5);
}

TEST(DecodeProto, FailedDecodeLeavesAnExistingBatchAlone) {
  Batch b = testing::MakeTraceBatch();
  std::string before = CanonicalDump(Signal::kTraces, b);
  size_t resources = b.resources.size(), scopes = b.scopes.size();
  std::string good = EncodeProto(Signal::kTraces, b);
  std::string bad = good + std::string("\x0a\x03\x12\x01\xff", 5);  // a scope with a bad tag
  std::string_view owned = b.arena.Adopt(bad);
  DecodeOutcome o;
  EXPECT_FALSE(DecodeProto(Signal::kTraces, owned, &b, &o).ok());
  EXPECT_EQ(CanonicalDump(Signal::kTraces, b), before);
  EXPECT_EQ(b.resources.size(), resources);
  EXPECT_EQ(b.scopes.size(), scopes);
}

TEST(DecodeProto, AppendsToABatchWithIndicesShifted) {
  Batch b = testing::MakeTraceBatch();
  std::string once = CanonicalDump(Signal::kTraces, b);
  std::string body = EncodeProto(Signal::kTraces, b);
  std::string_view owned = b.arena.Adopt(body);
  DecodeOutcome o;
  ASSERT_TRUE(DecodeProto(Signal::kTraces, owned, &b, &o).ok());
  // Grouping by (resource, scope) index keeps the two copies apart.
  EXPECT_EQ(CanonicalDump(Signal::kTraces, b), once + once);
}

}  // namespace
}  // namespace avtrace::otlp

namespace avtrace::otlp {
namespace {

// Found by otlp_proto_fuzz: an empty packed field (memcpy from/to null under UBSan).
TEST(DecodeProtoRegression, EmptyPackedFieldsAreFine) {
  auto d = DecodeWith(false, Signal::kMetrics, HistogramPoint([](WireWriter& p) {
                        p.BytesField(6, "");
                        p.BytesField(7, "");
                        p.Fixed64Field(4, 0);
                      }));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.points.size(), 1u);
  EXPECT_TRUE(d.batch.points[0].bucket_counts.empty());
}

// Found by otlp_proto_fuzz: a log body whose AnyValue holds only an unknown field has no value;
// it must mean the same as no body after a JSON round trip.
TEST(DecodeProtoRegression, LogBodyWithoutAValueIsNoBody) {
  auto d = DecodeWith(false, Signal::kLogs, Request([](WireWriter& l) {
                        l.Message(5, [](WireWriter& v) { v.VarintField(9, 1); });
                        l.Fixed64Field(1, 7);
                      }));
  ASSERT_TRUE(d.status.ok()) << d.status.ToString();
  ASSERT_EQ(d.batch.logs.size(), 1u);
  EXPECT_FALSE(d.batch.logs[0].body.empty());
  std::string dump = CanonicalDump(Signal::kLogs, d.batch);
  EXPECT_NE(dump.find(" body=none "), std::string::npos) << dump;
  auto j = DecodeWith(true, Signal::kLogs, EncodeJson(Signal::kLogs, d.batch));
  ASSERT_TRUE(j.status.ok());
  EXPECT_EQ(CanonicalDump(Signal::kLogs, j.batch), dump);
}

}  // namespace
}  // namespace avtrace::otlp
