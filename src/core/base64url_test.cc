#include "core/base64url.h"

#include <gtest/gtest.h>

namespace avtrace {
namespace {

TEST(Base64Url, RoundTripsAndRejectsWhatNoEncodingProduces) {
  for (std::string raw : {std::string(), std::string("f"), std::string("fo"), std::string("foo"),
                          std::string("\xff\xfe\x00\x01", 4)}) {
    std::string back;
    ASSERT_TRUE(Base64UrlDecode(Base64UrlEncode(raw), &back)) << raw;
    EXPECT_EQ(back, raw);
  }
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  std::string out;
  EXPECT_FALSE(Base64UrlDecode("ab=", &out));   // padding
  EXPECT_FALSE(Base64UrlDecode("a+b/", &out));  // the other alphabet
  EXPECT_FALSE(Base64UrlDecode("abcde", &out));  // 4k+1 characters
}

}  // namespace
}  // namespace avtrace
