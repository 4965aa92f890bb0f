#pragma once
// Protocol Buffers wire format: a bounds-checked reader over a byte view and an appending writer.
//
// WireReader never reads past its view and never allocates; every failure is reported through
// Next()/the read functions returning false, after which error() names what was wrong. It is the
// base of the zero-copy OTLP decoder: length-delimited fields come back as views into the input.
// WireWriter appends to a std::string (for encoders, responses, tests and the bench client).
//
// Threads: single-threaded values. Lifecycle: a WireReader borrows its input, which must outlive it.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace avtrace::otlp {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLen = 2, kStartGroup = 3, kEndGroup = 4, kFixed32 = 5 };

class WireReader {
 public:
  explicit WireReader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool done() const { return p_ >= end_; }
  const char* error() const { return error_; }

  // Reads the next tag. Returns false at the end of input (error() == nullptr) or on a bad tag.
  bool NextTag(uint32_t* field, WireType* type) {
    if (p_ >= end_) return false;
    uint64_t tag;
    if (!ReadVarint(&tag)) return false;
    uint32_t t = static_cast<uint32_t>(tag & 7);
    *field = static_cast<uint32_t>(tag >> 3);
    if (*field == 0 || tag > 0xFFFFFFFFull || t > 5) return Fail("invalid field tag");
    *type = static_cast<WireType>(t);
    return true;
  }

  bool ReadVarint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (p_ >= end_) return Fail("truncated varint");
      uint8_t b = static_cast<uint8_t>(*p_++);
      if (shift == 63 && b > 1) return Fail("varint overflows 64 bits");
      v |= static_cast<uint64_t>(b & 0x7F) << shift;
      if (!(b & 0x80)) {
        *out = v;
        return true;
      }
    }
    return Fail("varint longer than 10 bytes");
  }
  bool ReadFixed64(uint64_t* out) {
    if (end_ - p_ < 8) return Fail("truncated fixed64");
    std::memcpy(out, p_, 8);  // little-endian host (x86_64, aarch64)
    p_ += 8;
    return true;
  }
  bool ReadFixed32(uint32_t* out) {
    if (end_ - p_ < 4) return Fail("truncated fixed32");
    std::memcpy(out, p_, 4);
    p_ += 4;
    return true;
  }
  bool ReadDouble(double* out) {
    uint64_t bits;
    if (!ReadFixed64(&bits)) return false;
    std::memcpy(out, &bits, 8);
    return true;
  }
  bool ReadLen(std::string_view* out) {
    uint64_t n;
    if (!ReadVarint(&n)) return false;
    if (n > static_cast<uint64_t>(end_ - p_)) return Fail("length exceeds the remaining input");
    *out = std::string_view(p_, static_cast<size_t>(n));
    p_ += n;
    return true;
  }
  // Skips a field of the given type (unknown fields must be ignored). Groups are rejected.
  bool Skip(WireType type) {
    uint64_t u64;
    uint32_t u32;
    std::string_view v;
    switch (type) {
      case WireType::kVarint: return ReadVarint(&u64);
      case WireType::kFixed64: return ReadFixed64(&u64);
      case WireType::kLen: return ReadLen(&v);
      case WireType::kFixed32: return ReadFixed32(&u32);
      default: return Fail("groups are not supported");
    }
  }
  bool Fail(const char* msg) {
    if (!error_) error_ = msg;
    p_ = end_;
    return false;
  }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  // The next unread byte: lets a decoder keep views of whole fields (tag included).
  const char* pos() const { return p_; }

 private:
  const char* p_;
  const char* end_;
  const char* error_ = nullptr;
};

class WireWriter {
 public:
  explicit WireWriter(std::string* out) : out_(out) {}

  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void Tag(uint32_t field, WireType type) { Varint((static_cast<uint64_t>(field) << 3) | static_cast<uint8_t>(type)); }
  void VarintField(uint32_t field, uint64_t v) { Tag(field, WireType::kVarint); Varint(v); }
  void Fixed64Field(uint32_t field, uint64_t v) { Tag(field, WireType::kFixed64); Raw(&v, 8); }
  void Fixed32Field(uint32_t field, uint32_t v) { Tag(field, WireType::kFixed32); Raw(&v, 4); }
  void DoubleField(uint32_t field, double d) { uint64_t b; std::memcpy(&b, &d, 8); Fixed64Field(field, b); }
  void BytesField(uint32_t field, std::string_view v) { Tag(field, WireType::kLen); Varint(v.size()); out_->append(v); }
  void Raw(const void* p, size_t n) { out_->append(static_cast<const char*>(p), n); }

  // Writes a length-delimited submessage built by `build(WireWriter&)`. The length prefix is
  // reserved as 5 bytes and moved down afterwards, so nested messages need no second pass.
  template <typename F>
  void Message(uint32_t field, F&& build) {
    Tag(field, WireType::kLen);
    size_t at = out_->size();
    out_->append(5, '\0');
    build(*this);
    size_t len = out_->size() - at - 5;
    char prefix[10];
    size_t n = 0;
    uint64_t v = len;
    while (v >= 0x80) { prefix[n++] = static_cast<char>(v | 0x80); v >>= 7; }
    prefix[n++] = static_cast<char>(v);
    out_->replace(at, 5, prefix, n);
  }

  std::string* out() { return out_; }

 private:
  std::string* out_;
};

// sint32/sint64 zig-zag helpers.
inline int32_t ZigZagDecode32(uint64_t v) { return static_cast<int32_t>((v >> 1) ^ (~(v & 1) + 1)); }
inline uint64_t ZigZagEncode32(int32_t v) { return static_cast<uint32_t>((static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31)); }

}  // namespace avtrace::otlp
