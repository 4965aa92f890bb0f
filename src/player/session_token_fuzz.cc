// libFuzzer target for session-token verification (untrusted header values): any bytes give
// claims or an Unauthenticated status, never a crash; accepted claims name a project.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/base64url.h"
#include "player/session_tokens.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using avtrace::player::SessionTokenKeys;
  static const auto keys = std::move(
      SessionTokenKeys::Create({"k1:" + avtrace::Base64UrlEncode(std::string(32, 'a'))}, "k1", 900)
          .value());
  std::string_view token(reinterpret_cast<const char*>(data), size);
  auto claims = keys->Verify(token, 1'800'000'100);
  if (claims.ok() && claims->project_id.empty()) std::abort();
  return 0;
}
