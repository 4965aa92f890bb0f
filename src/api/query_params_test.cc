#include "api/query_params.h"

#include <gtest/gtest.h>

namespace avtrace::api {
namespace {

TEST(QueryParamsTest, SplitsAndDecodes) {
  auto p = QueryParams::Parse("service=my+svc&attr=k%3Dv=x&attr=a=b&&flag&name=%E2%82%AC");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(*p->String("service"), "my svc");
  EXPECT_EQ(p->All("attr"), (std::vector<std::string>{"k=v=x", "a=b"}));
  EXPECT_EQ(*p->String("flag", "dflt"), "");
  EXPECT_EQ(*p->String("absent", "dflt"), "dflt");
  EXPECT_EQ(*p->String("name"), "\xe2\x82\xac");
}

TEST(QueryParamsTest, MalformedPercentEncoding) {
  for (const char* q : {"a=%", "a=%4", "a=%zz", "%g1=1"}) {
    auto p = QueryParams::Parse(q);
    ASSERT_FALSE(p.ok()) << q;
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(p.status().message().find("percent-encoding"), std::string::npos);
  }
}

TEST(QueryParamsTest, UnknownAndRepeatedParametersAreNamed) {
  auto p = QueryParams::Parse("limt=5&_=123");
  ASSERT_TRUE(p.ok());
  Status s = p->CheckKnown({"limit", "cursor"});
  EXPECT_EQ(s.message(), "unknown parameter 'limt'; this route accepts: limit, cursor");
  p = QueryParams::Parse("limit=5&limit=6");
  auto r = p->Uint("limit", 20, 1, 1000);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "parameter 'limit' given more than once");
}

TEST(QueryParamsTest, TypedErrorsNameParameterAndForm) {
  auto p = QueryParams::Parse("limit=0&minDuration=fast&start=yesterday&q=2&attr=novalue");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->Uint("limit", 20, 1, 1000).status().message(),
            "parameter 'limit': expected an integer from 1 to 1000, got '0'");
  EXPECT_EQ(p->DurationNanos("minDuration", 0).status().message(),
            "parameter 'minDuration': expected a duration such as 150ms, 2s, 1m30s or integer "
            "nanoseconds, got 'fast'");
  EXPECT_EQ(p->TimeUnixNanos("start", 0).status().message(),
            "parameter 'start': expected Unix nanoseconds or an RFC 3339 time such as "
            "2024-05-01T12:00:00Z, got 'yesterday'");
  EXPECT_EQ(p->Double("q", 0.5, 0, 1).status().message(),
            "parameter 'q': expected a number from 0 to 1, got '2'");
  EXPECT_NE(p->AttributeFilters("attr").status().message().find("key=value"), std::string::npos);
}

TEST(QueryParamsTest, AttributeFiltersSplitOnFirstEquals) {
  auto p = QueryParams::Parse("attr=stream.id%3Dlive-1&attr=url=http://x/?a=b");
  ASSERT_TRUE(p.ok());
  auto f = p->AttributeFilters("attr");
  ASSERT_TRUE(f.ok());
  ASSERT_EQ(f->size(), 2u);
  EXPECT_EQ((*f)[0].key, "stream.id");
  EXPECT_EQ((*f)[0].value, "live-1");
  EXPECT_EQ((*f)[1].key, "url");
  EXPECT_EQ((*f)[1].value, "http://x/?a=b");
}

TEST(GoDurationTest, Table) {
  struct Case {
    const char* text;
    uint64_t nanos;
  };
  for (const Case& c :
       {Case{"150ms", 150'000'000}, Case{"2s", 2'000'000'000}, Case{"1m30s", 90'000'000'000},
        Case{"1.5h", 5'400'000'000'000}, Case{"300us", 300'000}, Case{"300\xc2\xb5s", 300'000},
        Case{"7ns", 7}, Case{"1500", 1500}, Case{".5s", 500'000'000}, Case{"1.s", 1'000'000'000},
        Case{"0", 0}, Case{"0s", 0}, Case{"2h45m0.5s", 9'900'500'000'000}}) {
    uint64_t n = 12345;
    EXPECT_TRUE(ParseGoDuration(c.text, &n)) << c.text;
    EXPECT_EQ(n, c.nanos) << c.text;
  }
  for (const char* bad : {"", "s", "1x", "-1s", "+1s", ".", "ms", "1.5", "1s2", "5 s",
                          "99999999999h", "18446744073709551616"}) {
    uint64_t n;
    EXPECT_FALSE(ParseGoDuration(bad, &n)) << bad;
  }
}

TEST(Rfc3339Test, Table) {
  struct Case {
    const char* text;
    uint64_t nanos;
  };
  for (const Case& c :
       {Case{"1970-01-01T00:00:00Z", 0}, Case{"2024-05-01T12:00:00Z", 1714564800'000000000},
        Case{"2024-05-01T12:00:00.25+02:00", 1714557600'250000000},
        Case{"2024-05-01t12:00:00.123456789z", 1714564800'123456789},
        Case{"2024-05-01T12:00:00.1234567891Z", 1714564800'123456789},
        Case{"2024-02-29T00:00:00-00:30", 1709166600'000000000},
        Case{"2000-01-01 00:00:00Z", 946684800'000000000}}) {
    uint64_t n = 0;
    EXPECT_TRUE(ParseRfc3339(c.text, &n)) << c.text;
    EXPECT_EQ(n, c.nanos) << c.text;
  }
  for (const char* bad :
       {"2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-05-01", "2024-05-01T12:00:00",
        "2024-13-01T00:00:00Z", "2024-05-01T24:00:00Z", "1969-12-31T23:59:59Z",
        "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+0200", "2024-05-01T12:00:00Zjunk"}) {
    uint64_t n;
    EXPECT_FALSE(ParseRfc3339(bad, &n)) << bad;
  }
}

TEST(TimeParamTest, NanosOrRfc3339) {
  auto p = QueryParams::Parse("start=1714564800000000000&end=2024-05-01T12%3A00%3A01Z");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(*p->TimeUnixNanos("start", 0), 1714564800'000000000u);
  EXPECT_EQ(*p->TimeUnixNanos("end", 0), 1714564801'000000000u);
}

}  // namespace
}  // namespace avtrace::api
