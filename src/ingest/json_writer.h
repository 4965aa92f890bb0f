#pragma once
// JsonWriter: a small streaming JSON writer for the HTTP front doors (error bodies) and the query
// API (every response body). It appends to a caller-owned std::string and manages commas itself,
// so rendering code reads as the document it produces.
//
// Strings are escaped per RFC 8259; invalid UTF-8 is replaced by U+FFFD so the output is always
// valid JSON whatever the stored bytes are. Doubles use the shortest round-trip form; NaN and
// infinities (not representable in JSON) are written as null.
//
// Ownership: `*out` must outlive the writer. Threads: one writer per thread. Errors: none; the
// caller is responsible for balanced Begin/End calls (checked by assert in debug builds).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace avtrace::ingest {

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string* out, std::string_view s);

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void BeginObject();
  void EndObject();
  void BeginArray();
  void EndArray();
  // Inside an object: the next value's key.
  void Key(std::string_view key);

  void String(std::string_view v);
  void Int(int64_t v);
  void Uint(uint64_t v);
  // 64-bit integers as decimal strings, as OTLP/JSON does (JavaScript loses precision past 2^53).
  void UintString(uint64_t v);
  void Double(double v);
  void Bool(bool v);
  void Null();
  // An already encoded JSON value, inserted verbatim.
  void Raw(std::string_view json);

  // Shorthands for `Key(k)` followed by the value.
  void Field(std::string_view k, std::string_view v) {
    Key(k);
    String(v);
  }
  void Field(std::string_view k, const char* v) {
    Key(k);
    String(v);
  }
  void FieldInt(std::string_view k, int64_t v) {
    Key(k);
    Int(v);
  }
  void FieldUint(std::string_view k, uint64_t v) {
    Key(k);
    Uint(v);
  }
  void FieldBool(std::string_view k, bool v) {
    Key(k);
    Bool(v);
  }

 private:
  void BeforeValue();

  std::string* out_;
  // One entry per open container: true while it has no element yet.
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace avtrace::ingest
