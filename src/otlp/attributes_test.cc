#include "otlp/attributes.h"

#include <gtest/gtest.h>

namespace avtrace::otlp {
namespace {

TEST(Attributes, WriteThenVisitEveryType) {
  std::string enc;
  AttrWriter w(&enc);
  w.String("service.name", "packager");
  w.Bool("drm.enabled", true);
  w.Int("segment.sequence", -42);
  w.Double("ratio", 0.25);
  w.Bytes("raw", std::string("\x00\x01\xff", 3));
  std::string elems;
  AppendArrayElement(&elems, EncodeStringValue("a"));
  AppendArrayElement(&elems, EncodeIntValue(7));
  w.Raw("list", EncodeArrayValue(elems));
  std::string inner;
  AttrWriter(&inner).String("k", "v");
  w.Raw("map", EncodeKvListValue(inner));
  EXPECT_EQ(w.count(), 7u);

  std::vector<std::string> seen;
  ASSERT_TRUE(VisitAttributes(enc, [&](std::string_view k, const ValueView& v) {
                seen.push_back(std::string(k) + "=" + ValueToText(v));
              }).ok());
  ASSERT_EQ(seen.size(), 7u);
  EXPECT_EQ(seen[0], "service.name=packager");
  EXPECT_EQ(seen[1], "drm.enabled=true");
  EXPECT_EQ(seen[2], "segment.sequence=-42");
  EXPECT_EQ(seen[3], "ratio=0.25");
  EXPECT_EQ(seen[4], "raw=\"AAH/\"");
  EXPECT_EQ(seen[5], "list=[\"a\",7]");
  EXPECT_EQ(seen[6], "map={\"k\":\"v\"}");

  ValueView v;
  ASSERT_TRUE(FindAttribute(enc, "segment.sequence", &v));
  EXPECT_EQ(v.type, ValueType::kInt);
  EXPECT_EQ(v.int_value, -42);
  EXPECT_FALSE(FindAttribute(enc, "absent", &v));
}

TEST(Attributes, MalformedListIsAnError) {
  std::string enc = "\x0a\x05\x0a\x01";  // length 5 but only 2 bytes follow
  Status s = VisitAttributes(enc, [](std::string_view, const ValueView&) {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
}

TEST(Arena, ViewsSurviveMoves) {
  Batch b;
  std::string_view small = b.arena.Adopt("tiny");
  std::string_view copied = b.arena.Copy("copied bytes");
  Batch moved = std::move(b);
  EXPECT_EQ(small, "tiny");
  EXPECT_EQ(copied, "copied bytes");
  EXPECT_GT(moved.arena.bytes(), 0u);
}

}  // namespace
}  // namespace avtrace::otlp
