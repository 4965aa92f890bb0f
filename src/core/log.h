#pragma once
// Logging facade over spdlog. Lifecycle and operator-actionable events only: a sentence, then
// key=value fields. Nothing per item on hot paths; count it instead (metrics/).
//
// Threads: all functions are thread-safe. Lifecycle: call InitLogging once from main before
// starting threads; without it, logs go to stderr as text at info level.

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace avtrace::log {

enum class Format { kText, kJson };
enum class Level { kDebug, kInfo, kWarn, kError };

void InitLogging(Format format, Level level);
bool ParseLevel(std::string_view name, Level* out);

using Field = std::pair<std::string_view, std::string>;
void Write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }

}  // namespace avtrace::log
