#include "otlp/attributes.h"

#include <cmath>
#include <cstdio>

namespace avtrace::otlp {

bool ParseAnyValue(std::string_view encoded, ValueView* out, const char** error) {
  *out = ValueView{};
  WireReader r(encoded);
  uint32_t field;
  WireType type;
  while (r.NextTag(&field, &type)) {
    uint64_t u = 0;
    switch (field) {
      case 1:
      case 7:
      case 5:
      case 6:
        if (type != WireType::kLen) {
          *error = "AnyValue: wrong wire type for a length-delimited value";
          return false;
        }
        if (!r.ReadLen(&out->bytes)) break;
        out->type = field == 1 ? ValueType::kString
                    : field == 7 ? ValueType::kBytes
                    : field == 5 ? ValueType::kArray
                                 : ValueType::kKvList;
        continue;
      case 2:
      case 3:
        if (type != WireType::kVarint) {
          *error = "AnyValue: wrong wire type for bool_value/int_value";
          return false;
        }
        if (!r.ReadVarint(&u)) break;
        if (field == 2) {
          out->type = ValueType::kBool;
          out->bool_value = u != 0;
        } else {
          out->type = ValueType::kInt;
          out->int_value = static_cast<int64_t>(u);
        }
        continue;
      case 4:
        if (type != WireType::kFixed64) {
          *error = "AnyValue: wrong wire type for double_value";
          return false;
        }
        if (!r.ReadDouble(&out->double_value)) break;
        out->type = ValueType::kDouble;
        continue;
      default:
        if (!r.Skip(type)) break;
        continue;
    }
    break;
  }
  if (r.error()) {
    *error = r.error();
    return false;
  }
  return true;
}

bool FindAttribute(std::string_view encoded, std::string_view key, ValueView* out) {
  bool found = false;
  Status s = VisitAttributes(encoded, [&](std::string_view k, const ValueView& v) {
    if (!found && k == key) {
      *out = v;
      found = true;
    }
  });
  return s.ok() && found;
}

namespace {

void AppendJsonEscaped(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    if (c == '"') out += "\\\"";
    else if (c == '\\') out += "\\\\";
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  out += '"';
}

void AppendBase64(std::string& out, std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += k[n >> 18]; out += k[(n >> 12) & 63]; out += k[(n >> 6) & 63]; out += k[n & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += k[n >> 18]; out += k[(n >> 12) & 63]; out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += k[n >> 18]; out += k[(n >> 12) & 63]; out += k[(n >> 6) & 63]; out += '=';
  }
}

void AppendDouble(std::string& out, double d) {
  if (std::isnan(d)) { out += "NaN"; return; }
  if (std::isinf(d)) { out += d > 0 ? "Infinity" : "-Infinity"; return; }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  out += buf;
}

void AppendValueJson(std::string& out, const ValueView& v, int depth);

void AppendKvListJson(std::string& out, std::string_view encoded, int depth) {
  out += '{';
  bool first = true;
  (void)VisitAttributes(encoded, [&](std::string_view k, const ValueView& v) {
    if (!first) out += ',';
    first = false;
    AppendJsonEscaped(out, k);
    out += ':';
    AppendValueJson(out, v, depth + 1);
  });
  out += '}';
}

void AppendValueJson(std::string& out, const ValueView& v, int depth) {
  if (depth > 32) { out += "null"; return; }
  switch (v.type) {
    case ValueType::kEmpty: out += "null"; break;
    case ValueType::kString: AppendJsonEscaped(out, v.bytes); break;
    case ValueType::kBool: out += v.bool_value ? "true" : "false"; break;
    case ValueType::kInt: out += std::to_string(v.int_value); break;
    case ValueType::kDouble: AppendDouble(out, v.double_value); break;
    case ValueType::kBytes: out += '"'; AppendBase64(out, v.bytes); out += '"'; break;
    case ValueType::kArray: {
      out += '[';
      bool first = true;
      (void)VisitArray(v.bytes, [&](const ValueView& e) {
        if (!first) out += ',';
        first = false;
        AppendValueJson(out, e, depth + 1);
      });
      out += ']';
      break;
    }
    case ValueType::kKvList: AppendKvListJson(out, v.bytes, depth); break;
  }
}

}  // namespace

std::string ValueToText(const ValueView& v) {
  switch (v.type) {
    case ValueType::kString: return std::string(v.bytes);
    case ValueType::kBool: return v.bool_value ? "true" : "false";
    case ValueType::kInt: return std::to_string(v.int_value);
    case ValueType::kDouble: {
      std::string s;
      AppendDouble(s, v.double_value);
      return s;
    }
    case ValueType::kEmpty: return "";
    default: {
      std::string s;
      AppendValueJson(s, v, 0);
      return s;
    }
  }
}

void AttrWriter::Raw(std::string_view key, std::string_view encoded_value) {
  w_.Message(1, [&](WireWriter& kv) {
    kv.BytesField(1, key);
    kv.BytesField(2, encoded_value);
  });
  ++count_;
}
void AttrWriter::String(std::string_view key, std::string_view v) { Raw(key, EncodeStringValue(v)); }
void AttrWriter::Bool(std::string_view key, bool v) { Raw(key, EncodeBoolValue(v)); }
void AttrWriter::Int(std::string_view key, int64_t v) { Raw(key, EncodeIntValue(v)); }
void AttrWriter::Double(std::string_view key, double v) { Raw(key, EncodeDoubleValue(v)); }
void AttrWriter::Bytes(std::string_view key, std::string_view v) { Raw(key, EncodeBytesValue(v)); }

std::string EncodeStringValue(std::string_view v) {
  std::string s;
  WireWriter(&s).BytesField(1, v);
  return s;
}
std::string EncodeBoolValue(bool v) {
  std::string s;
  WireWriter(&s).VarintField(2, v ? 1 : 0);
  return s;
}
std::string EncodeIntValue(int64_t v) {
  std::string s;
  WireWriter(&s).VarintField(3, static_cast<uint64_t>(v));
  return s;
}
std::string EncodeDoubleValue(double v) {
  std::string s;
  WireWriter(&s).DoubleField(4, v);
  return s;
}
std::string EncodeBytesValue(std::string_view v) {
  std::string s;
  WireWriter(&s).BytesField(7, v);
  return s;
}
std::string EncodeArrayValue(std::string_view encoded_elements) {
  std::string s;
  WireWriter(&s).BytesField(5, encoded_elements);
  return s;
}
std::string EncodeKvListValue(std::string_view encoded_kvs) {
  std::string s;
  WireWriter(&s).BytesField(6, encoded_kvs);
  return s;
}
void AppendArrayElement(std::string* elements, std::string_view encoded_value) {
  WireWriter(elements).BytesField(1, encoded_value);
}

}  // namespace avtrace::otlp
