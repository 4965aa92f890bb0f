#pragma once
// base64url without padding (RFC 4648 §5): opaque API cursors and session tokens.
//
// Threads: pure. Errors: Decode returns false for a character outside the alphabet, padding,
// or a length that no encoding produces (4k+1).

#include <string>
#include <string_view>

namespace avtrace {

std::string Base64UrlEncode(std::string_view bytes);
bool Base64UrlDecode(std::string_view text, std::string* out);

}  // namespace avtrace
