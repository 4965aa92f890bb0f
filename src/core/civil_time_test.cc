#include "core/civil_time.h"

#include <gtest/gtest.h>

namespace avtrace {
namespace {

TEST(CivilTime, DaysFromCivil) {
  EXPECT_EQ(DaysFromCivil(1970, 1, 1), 0);
  EXPECT_EQ(DaysFromCivil(2000, 3, 1), 11017);
  EXPECT_EQ(DaysFromCivil(1969, 12, 31), -1);
  EXPECT_EQ(DaysFromCivil(2024, 2, 29), 19782);
}

TEST(CivilTime, FormatsMillisecondsIncludingNegativeTimes) {
  EXPECT_EQ(FormatRfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatRfc3339Millis(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(FormatRfc3339Millis(-1), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatRfc3339Millis(951'782'400'000), "2000-02-29T00:00:00.000Z");
}

}  // namespace
}  // namespace avtrace
