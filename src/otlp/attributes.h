#pragma once
// Reading and writing AttrLists (attribute lists kept in protobuf wire form, see model.h).
//
// VisitAttributes walks an AttrList and calls `fn(key, value)` for each entry, with views into the
// list's bytes. Nested arrays and key-value lists come back as their encoded message bytes
// (ValueView::bytes) and can be walked with VisitArray / VisitAttributes again.
// AttrWriter builds an AttrList in the same form (used by the JSON decoder, tests and benches).
//
// Threads: pure functions over borrowed bytes. Errors: a malformed encoding yields a Status
// naming the problem; decoders validate lists on the way in, so stored lists are well-formed.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "otlp/model.h"
#include "otlp/wire.h"

namespace avtrace::otlp {

enum class ValueType : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kBytes, kArray, kKvList };

struct ValueView {
  ValueType type = ValueType::kEmpty;
  bool bool_value = false;
  int64_t int_value = 0;
  double double_value = 0;
  // kString, kBytes: the value. kArray: an encoded ArrayValue. kKvList: an encoded KeyValueList
  // (which is itself a valid AttrList encoding).
  std::string_view bytes;
};

// Decodes one encoded AnyValue message.
bool ParseAnyValue(std::string_view encoded, ValueView* out, const char** error);

// Calls fn(std::string_view key, const ValueView& value) for each KeyValue in `encoded`.
template <typename Fn>
Status VisitAttributes(std::string_view encoded, Fn&& fn) {
  WireReader list(encoded);
  uint32_t field;
  WireType type;
  while (list.NextTag(&field, &type)) {
    if (type != WireType::kLen) return InvalidArgument("attribute list: entry is not length-delimited");
    std::string_view kv_bytes;
    if (!list.ReadLen(&kv_bytes)) break;
    WireReader kv(kv_bytes);
    std::string_view key, value_bytes;
    uint32_t f;
    WireType t;
    while (kv.NextTag(&f, &t)) {
      if (f == 1 && t == WireType::kLen) {
        if (!kv.ReadLen(&key)) break;
      } else if (f == 2 && t == WireType::kLen) {
        if (!kv.ReadLen(&value_bytes)) break;
      } else if (!kv.Skip(t)) {
        break;
      }
    }
    if (kv.error()) return InvalidArgument(std::string("attribute: ") + kv.error());
    ValueView value;
    const char* err = nullptr;
    if (!ParseAnyValue(value_bytes, &value, &err)) {
      return InvalidArgument(std::string("attribute '") + std::string(key) + "': " + err);
    }
    fn(key, value);
  }
  if (list.error()) return InvalidArgument(std::string("attribute list: ") + list.error());
  return Status::Ok();
}

// Calls fn(const ValueView&) for each value of an encoded ArrayValue.
template <typename Fn>
Status VisitArray(std::string_view encoded, Fn&& fn) {
  WireReader r(encoded);
  uint32_t field;
  WireType type;
  while (r.NextTag(&field, &type)) {
    if (field == 1 && type == WireType::kLen) {
      std::string_view v;
      if (!r.ReadLen(&v)) break;
      ValueView value;
      const char* err = nullptr;
      if (!ParseAnyValue(v, &value, &err)) return InvalidArgument(std::string("array value: ") + err);
      fn(value);
    } else if (!r.Skip(type)) {
      break;
    }
  }
  if (r.error()) return InvalidArgument(std::string("array: ") + r.error());
  return Status::Ok();
}

// Finds the first attribute named `key`. Returns false if absent or the list is malformed.
bool FindAttribute(std::string_view encoded, std::string_view key, ValueView* out);
// The value rendered as text: strings as-is, numbers and bools in decimal/true/false,
// bytes/arrays/kvlists as JSON. Used for indexed attribute values and labels.
std::string ValueToText(const ValueView& v);

// Builds an encoded attribute list / AnyValue. Appends to a caller-owned std::string.
class AttrWriter {
 public:
  explicit AttrWriter(std::string* out) : w_(out) {}
  void String(std::string_view key, std::string_view v);
  void Bool(std::string_view key, bool v);
  void Int(std::string_view key, int64_t v);
  void Double(std::string_view key, double v);
  void Bytes(std::string_view key, std::string_view v);
  // `encoded_value` is an already encoded AnyValue message (e.g. from AnyValueWriter).
  void Raw(std::string_view key, std::string_view encoded_value);
  uint32_t count() const { return count_; }

 private:
  WireWriter w_;
  uint32_t count_ = 0;
};

// Encodes single AnyValue messages (for array elements, kvlist values and log bodies).
std::string EncodeStringValue(std::string_view v);
std::string EncodeBoolValue(bool v);
std::string EncodeIntValue(int64_t v);
std::string EncodeDoubleValue(double v);
std::string EncodeBytesValue(std::string_view v);
// `encoded_elements`: concatenated encoded AnyValues, each already wrapped as field 1 (see
// AppendArrayElement). `encoded_kvs`: an encoded attribute list.
std::string EncodeArrayValue(std::string_view encoded_elements);
std::string EncodeKvListValue(std::string_view encoded_kvs);
void AppendArrayElement(std::string* elements, std::string_view encoded_value);

}  // namespace avtrace::otlp
