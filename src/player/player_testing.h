#pragma once
// Test helpers for the player module: data files under test/data/player, a fixed clock.
#include <fstream>
#include <iterator>
#include <string>

#include <simdjson.h>

namespace avtrace::player::testing {

// 2024-05-01T12:00:00.000Z
inline constexpr uint64_t kNow = 1714564800ULL * 1'000'000'000ULL;
inline constexpr const char* kNowText = "2024-05-01T12:00:00.000Z";

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::string DataPath(const std::string& name) {
  return std::string(AVTRACE_SOURCE_DIR) + "/test/data/player/" + name;
}

// Replaces every "NOW" string literal with kNowText.
inline std::string WithNow(std::string s) {
  const std::string from = "\"NOW\"", to = std::string("\"") + kNowText + "\"";
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

}  // namespace avtrace::player::testing
