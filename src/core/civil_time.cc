#include "core/civil_time.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace avtrace {

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  using namespace std::chrono;
  const int y = static_cast<int>(std::clamp<int64_t>(year, -32767, 32767));
  const sys_days date{std::chrono::year{y} / std::chrono::month{month} / std::chrono::day{day}};
  return date.time_since_epoch().count();
}

std::string FormatRfc3339Millis(int64_t unix_millis) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{unix_millis}};
  const sys_days date = floor<days>(tp);
  const year_month_day ymd{date};
  const hh_mm_ss<milliseconds> hms{tp - date};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()),
                static_cast<int>(hms.subseconds().count()));
  return buf;
}

}  // namespace avtrace
