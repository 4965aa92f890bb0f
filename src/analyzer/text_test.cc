#include "analyzer/text.h"

#include <gtest/gtest.h>

#include <charconv>
#include <cstring>
#include <random>
#include <string>

namespace avtrace::analyzer {
namespace {

TEST(Text, DecimalInt) {
  uint64_t v;
  EXPECT_TRUE(ParseDecimalInt("0", &v));
  EXPECT_TRUE(ParseDecimalInt("18446744073709551615", &v));
  EXPECT_EQ(v, 18446744073709551615ull);
  EXPECT_FALSE(ParseDecimalInt("18446744073709551616", &v));
  EXPECT_FALSE(ParseDecimalInt("-1", &v));
  EXPECT_FALSE(ParseDecimalInt("1.0", &v));
  EXPECT_FALSE(ParseDecimalInt("", &v));
  EXPECT_FALSE(ParseDecimalInt(" 1", &v));
}

TEST(Text, DecimalFloat) {
  double d;
  EXPECT_TRUE(ParseDecimalFloat("5.967", &d));
  EXPECT_DOUBLE_EQ(d, 5.967);
  EXPECT_TRUE(ParseDecimalFloat("6", &d));
  EXPECT_FALSE(ParseDecimalFloat("-1", &d));
  EXPECT_TRUE(ParseDecimalFloat("-1.5", &d, true));
  EXPECT_FALSE(ParseDecimalFloat("1e3", &d));
  EXPECT_FALSE(ParseDecimalFloat(".5", &d));
  EXPECT_FALSE(ParseDecimalFloat("1.2.3", &d));
  EXPECT_FALSE(ParseDecimalFloat("nan", &d));
}

// The short-input fast path must return exactly what std::from_chars returns.
TEST(Text, DecimalFloatMatchesFromChars) {
  std::mt19937_64 rng(42);
  const char* fixed[] = {"0", "0.0", "6.", "6.006", "0.1", "0.3", "9.999999999999999",
                         "123456789012345", "12345678901234.5", "0.000000000000001",
                         "00000000000006.006", "4503599627370497", "1234567890123456789.5"};
  auto same = [](std::string_view s, bool signed_ok) {
    double fast = 0, ref = 0;
    bool ok = ParseDecimalFloat(s, &fast, signed_ok);
    auto r = std::from_chars(s.data(), s.data() + s.size(), ref);
    ASSERT_TRUE(ok) << s;
    ASSERT_EQ(r.ptr, s.data() + s.size()) << s;
    EXPECT_EQ(std::memcmp(&fast, &ref, sizeof fast), 0) << s;
  };
  for (const char* s : fixed) same(s, false);
  same("-0.0", true);
  same("-2.5", true);
  for (int i = 0; i < 20000; ++i) {
    int digits = 1 + static_cast<int>(rng() % 18);
    int dot = static_cast<int>(rng() % static_cast<uint64_t>(digits + 1));
    std::string s;
    for (int k = 0; k < digits; ++k) {
      if (k == dot && k > 0) s += '.';
      s += static_cast<char>('0' + rng() % 10);
    }
    same(s, false);
  }
}

TEST(Text, Iso8601) {
  EXPECT_DOUBLE_EQ(*ParseIso8601("1970-01-01T00:00:00Z"), 0.0);
  EXPECT_DOUBLE_EQ(*ParseIso8601("2026-05-07T00:00:00Z"), 1778112000.0);
  EXPECT_DOUBLE_EQ(*ParseIso8601("2026-05-07T02:00:00.5+02:00"), 1778112000.5);
  EXPECT_DOUBLE_EQ(*ParseIso8601("2026-05-06T22:00:00-0200"), 1778112000.0);
  EXPECT_DOUBLE_EQ(*ParseIso8601("2026-05-07T00:00:00"), 1778112000.0);
  EXPECT_FALSE(ParseIso8601("2026-05-07 00:00:00Z"));
  EXPECT_FALSE(ParseIso8601("2026-13-07T00:00:00Z"));
  EXPECT_FALSE(ParseIso8601("2026-05-07T00:00:00Zjunk"));
  EXPECT_EQ(FormatIso8601(1778112000.25), "2026-05-07T00:00:00.250Z");
  EXPECT_EQ(FormatIso8601(-1), "1969-12-31T23:59:59.000Z");
}

TEST(Text, XsDuration) {
  EXPECT_DOUBLE_EQ(*ParseXsDuration("PT2S"), 2.0);
  EXPECT_DOUBLE_EQ(*ParseXsDuration("PT1H2M3.5S"), 3723.5);
  EXPECT_DOUBLE_EQ(*ParseXsDuration("P1DT1S"), 86401.0);
  EXPECT_DOUBLE_EQ(*ParseXsDuration("PT0S"), 0.0);
  EXPECT_FALSE(ParseXsDuration("P"));
  EXPECT_FALSE(ParseXsDuration("PT"));
  EXPECT_FALSE(ParseXsDuration("2S"));
  EXPECT_FALSE(ParseXsDuration("PT2X"));
  EXPECT_FALSE(ParseXsDuration("P1H"));
}

TEST(Text, JsonEscapeKeepsOutputValid) {
  std::string out;
  AppendJsonEscaped("a\"b\\c\n\x01\xc3\xa9\xff", &out);
  EXPECT_EQ(out, "a\\\"b\\\\c\\n\\u0001\xc3\xa9\\ufffd");
}

TEST(Text, FormatNumberIsDeterministic) {
  EXPECT_EQ(FormatNumber(6), "6");
  EXPECT_EQ(FormatNumber(5.967), "5.967");
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.3");
  EXPECT_EQ(FormatNumber(std::numeric_limits<double>::quiet_NaN()), "0");
}

}  // namespace
}  // namespace avtrace::analyzer
