#pragma once
// Calendar helpers shared by every parser and renderer of RFC 3339 / ISO 8601 times (player
// beacons, the analyzer's PROGRAM-DATE-TIME and MPD times). Built on C++20 <chrono> calendar
// types, so there is no hand-written civil-date arithmetic in the project.
// Threads: pure functions.

#include <cstdint>
#include <string>

namespace avtrace {

// Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12, d 1..31; not validated:
// out-of-range days roll over as <chrono> does). Years beyond ±32767 are clamped.
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

// "YYYY-MM-DDThh:mm:ss.mmmZ" for a Unix time in milliseconds (negative times allowed).
std::string FormatRfc3339Millis(int64_t unix_millis);

}  // namespace avtrace
