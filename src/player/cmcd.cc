#include "player/cmcd.h"

#include <simdjson.h>

#include <cmath>
#include <cstdio>

#include "player/text.h"

namespace avtrace::player {
namespace {

enum class Expect : uint8_t {
  kInteger, kDecimal, kBoolean, kString, kToken, kIntegerList, kStringList, kAny
};

struct KeySpec {
  std::string_view key;
  Expect v1;  // kAny: not a v1 key
  Expect v2;
};

// CTA-5004 (v1) and CTA-5004-B (v2) key types.
constexpr KeySpec kKeys[] = {
    {"ab", Expect::kAny, Expect::kIntegerList},   {"bl", Expect::kInteger, Expect::kIntegerList},
    {"br", Expect::kInteger, Expect::kIntegerList}, {"bsa", Expect::kAny, Expect::kIntegerList},
    {"bsd", Expect::kAny, Expect::kIntegerList},  {"bsda", Expect::kAny, Expect::kIntegerList},
    {"lab", Expect::kAny, Expect::kIntegerList},  {"lb", Expect::kAny, Expect::kIntegerList},
    {"mtp", Expect::kInteger, Expect::kIntegerList}, {"pb", Expect::kAny, Expect::kIntegerList},
    {"tab", Expect::kAny, Expect::kIntegerList},  {"tb", Expect::kInteger, Expect::kIntegerList},
    {"tbl", Expect::kAny, Expect::kIntegerList},  {"tpb", Expect::kAny, Expect::kIntegerList},
    {"ec", Expect::kAny, Expect::kStringList},    {"nor", Expect::kString, Expect::kStringList},
    {"d", Expect::kInteger, Expect::kInteger},    {"dfa", Expect::kAny, Expect::kInteger},
    {"dl", Expect::kInteger, Expect::kInteger},   {"ltc", Expect::kAny, Expect::kInteger},
    {"msd", Expect::kAny, Expect::kInteger},      {"pt", Expect::kAny, Expect::kInteger},
    {"rc", Expect::kAny, Expect::kInteger},       {"rtp", Expect::kInteger, Expect::kInteger},
    {"sn", Expect::kAny, Expect::kInteger},       {"ts", Expect::kAny, Expect::kInteger},
    {"ttfb", Expect::kAny, Expect::kInteger},     {"ttfbb", Expect::kAny, Expect::kInteger},
    {"ttlb", Expect::kAny, Expect::kInteger},     {"v", Expect::kInteger, Expect::kInteger},
    {"pr", Expect::kDecimal, Expect::kDecimal},   {"bg", Expect::kAny, Expect::kBoolean},
    {"bs", Expect::kBoolean, Expect::kBoolean},   {"nr", Expect::kAny, Expect::kBoolean},
    {"su", Expect::kBoolean, Expect::kBoolean},   {"cdn", Expect::kAny, Expect::kString},
    {"cen", Expect::kAny, Expect::kString},       {"cid", Expect::kString, Expect::kString},
    {"cmsdd", Expect::kAny, Expect::kString},     {"cmsds", Expect::kAny, Expect::kString},
    {"cs", Expect::kAny, Expect::kString},        {"h", Expect::kAny, Expect::kString},
    {"nrr", Expect::kString, Expect::kString},    {"sid", Expect::kString, Expect::kString},
    {"smrt", Expect::kAny, Expect::kString},      {"url", Expect::kAny, Expect::kString},
    {"e", Expect::kAny, Expect::kToken},          {"ot", Expect::kToken, Expect::kToken},
    {"sf", Expect::kToken, Expect::kToken},       {"st", Expect::kToken, Expect::kToken},
    {"sta", Expect::kAny, Expect::kToken},
};

const KeySpec* FindKey(std::string_view k) {
  for (const auto& s : kKeys)
    if (s.key == k) return &s;
  return nullptr;
}

Status Err(std::string msg) { return InvalidArgument("CMCD: " + std::move(msg)); }

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.' || c == '*';
}

bool IsTokenChar(char c) {
  return IsKeyChar(c) || c == ':' || c == '/' || c == '!' || c == '#' || c == '$' || c == '%' ||
         c == '&' || c == '\'' || c == '+' || c == '^' || c == '`' || c == '|' || c == '~';
}

class DictParser {
 public:
  explicit DictParser(std::string_view s) : s_(s) {}

  Status Parse(std::vector<CmcdPair>* out) {
    SkipSpace();
    if (pos_ == s_.size()) return Status::Ok();
    while (true) {
      CmcdPair p;
      RETURN_IF_ERROR(Key(&p.key));
      if (Peek() == '=') {
        ++pos_;
        RETURN_IF_ERROR(Value(p.key, &p.value));
      } else {
        p.value.type = CmcdType::kBoolean;
        p.value.boolean = true;
      }
      // Parameters on a top-level item (";x") are allowed by SFV; CMCD defines none: skip.
      while (Peek() == ';') {
        ++pos_;
        std::string ignored;
        RETURN_IF_ERROR(Key(&ignored));
        if (Peek() == '=') {
          ++pos_;
          CmcdItem it;
          RETURN_IF_ERROR(Bare(p.key, &it));
        }
      }
      for (const auto& q : *out)
        if (q.key == p.key) return Err("duplicate key '" + p.key + "'");
      out->push_back(std::move(p));
      SkipSpace();
      if (pos_ == s_.size()) return Status::Ok();
      if (s_[pos_] != ',') return Err("expected ',' at offset " + std::to_string(pos_));
      ++pos_;
      SkipSpace();
      if (pos_ == s_.size()) return Err("trailing ','");
    }
  }

 private:
  char Peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
  }

  Status Key(std::string* key) {
    size_t start = pos_;
    char c = Peek();
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*'))
      return Err("expected a key at offset " + std::to_string(pos_));
    while (pos_ < s_.size() && IsKeyChar(s_[pos_])) ++pos_;
    if (pos_ - start > 64) return Err("key longer than 64 characters");
    key->assign(s_.substr(start, pos_ - start));
    return Status::Ok();
  }

  Status Bare(const std::string& key, CmcdItem* it) {
    char c = Peek();
    if (c == '"') {
      ++pos_;
      std::string out;
      while (true) {
        if (pos_ >= s_.size()) return Err("key '" + key + "': unterminated string");
        char ch = s_[pos_++];
        if (ch == '"') break;
        if (ch == '\\') {
          if (pos_ >= s_.size() || (s_[pos_] != '"' && s_[pos_] != '\\'))
            return Err("key '" + key + "': bad escape in string");
          ch = s_[pos_++];
        } else if (static_cast<unsigned char>(ch) < 0x20 || static_cast<unsigned char>(ch) > 0x7e) {
          return Err("key '" + key + "': non-printable character in string");
        }
        out.push_back(ch);
      }
      it->type = CmcdType::kString;
      it->text = std::move(out);
      return Status::Ok();
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      size_t start = pos_;
      if (c == '-') ++pos_;
      size_t int_start = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      size_t int_digits = pos_ - int_start;
      if (int_digits == 0) return Err("key '" + key + "': bad number");
      if (Peek() == '.') {
        ++pos_;
        size_t frac_start = pos_;
        while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
        size_t frac = pos_ - frac_start;
        if (frac == 0 || frac > 3 || int_digits > 12)
          return Err("key '" + key + "': bad decimal");
        it->type = CmcdType::kDecimal;
        it->decimal = std::strtod(std::string(s_.substr(start, pos_ - start)).c_str(), nullptr);
        return Status::Ok();
      }
      if (int_digits > 15) return Err("key '" + key + "': integer longer than 15 digits");
      int64_t v = 0;
      for (size_t i = int_start; i < pos_; ++i) v = v * 10 + (s_[i] - '0');
      it->type = CmcdType::kInteger;
      it->integer = c == '-' ? -v : v;
      return Status::Ok();
    }
    if (c == '?') {
      ++pos_;
      char b = Peek();
      if (b != '0' && b != '1') return Err("key '" + key + "': bad boolean");
      ++pos_;
      it->type = CmcdType::kBoolean;
      it->integer = b == '1';
      return Status::Ok();
    }
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*') {
      size_t start = pos_;
      while (pos_ < s_.size() && IsTokenChar(s_[pos_])) ++pos_;
      it->type = CmcdType::kToken;
      it->text.assign(s_.substr(start, pos_ - start));
      return Status::Ok();
    }
    return Err("key '" + key + "': bad value at offset " + std::to_string(pos_));
  }

  Status Value(const std::string& key, CmcdValue* v) {
    if (Peek() == '(') {
      ++pos_;
      v->type = CmcdType::kList;
      while (true) {
        while (Peek() == ' ') ++pos_;
        if (Peek() == ')') {
          ++pos_;
          return Status::Ok();
        }
        if (pos_ >= s_.size()) return Err("key '" + key + "': unterminated list");
        if (v->list.size() >= 64) return Err("key '" + key + "': list longer than 64 items");
        CmcdItem it;
        RETURN_IF_ERROR(Bare(key, &it));
        while (Peek() == ';') {  // item parameters, e.g. `;v` for a track type
          ++pos_;
          std::string pk;
          RETURN_IF_ERROR(Key(&pk));
          if (Peek() == '=') {
            ++pos_;
            CmcdItem pv;
            RETURN_IF_ERROR(Bare(key, &pv));
          }
        }
        v->list.push_back(std::move(it));
        char n = Peek();
        if (n != ' ' && n != ')') return Err("key '" + key + "': bad list");
      }
    }
    CmcdItem it;
    RETURN_IF_ERROR(Bare(key, &it));
    if (it.type == CmcdType::kBoolean) {
      v->type = CmcdType::kBoolean;
      v->boolean = it.integer == 1;
      return Status::Ok();
    }
    v->type = it.type;
    v->integer = it.integer;
    v->decimal = it.decimal;
    v->text = std::move(it.text);
    return Status::Ok();
  }

  std::string_view s_;
  size_t pos_ = 0;
};

bool OneOf(std::string_view s, std::initializer_list<std::string_view> values) {
  for (auto v : values)
    if (s == v) return true;
  return false;
}

Status CheckType(const CmcdPair& p, int version) {
  const KeySpec* spec = FindKey(p.key);
  if (spec == nullptr) return Status::Ok();
  Expect e = version >= 2 ? spec->v2 : spec->v1;
  if (e == Expect::kAny) e = spec->v2;  // a v2 key in a v1 payload: accept with its v2 type
  const CmcdValue& v = p.value;
  auto bad = [&](const char* what) { return Err("key '" + p.key + "': expected " + what); };
  switch (e) {
    case Expect::kInteger:
      if (v.type != CmcdType::kInteger) return bad("an integer");
      if (v.integer < 0) return bad("a non-negative integer");
      break;
    case Expect::kDecimal:
      if (v.type != CmcdType::kDecimal && v.type != CmcdType::kInteger) return bad("a decimal");
      break;
    case Expect::kBoolean:
      if (v.type != CmcdType::kBoolean) return bad("a boolean (key alone)");
      break;
    case Expect::kString:
      if (v.type != CmcdType::kString) return bad("a quoted string");
      break;
    case Expect::kToken:
      if (v.type != CmcdType::kToken) return bad("a token");
      break;
    case Expect::kIntegerList:
      // v2 list keys also accept a single integer (players emit both forms).
      if (v.type == CmcdType::kInteger) {
        if (v.integer < 0) return bad("a non-negative integer");
        break;
      }
      if (v.type != CmcdType::kList) return bad("an integer or an inner list of integers");
      for (const auto& it : v.list)
        if (it.type != CmcdType::kInteger || it.integer < 0)
          return bad("an inner list of non-negative integers");
      break;
    case Expect::kStringList:
      if (v.type == CmcdType::kString) break;
      if (v.type != CmcdType::kList) return bad("a string or an inner list of strings");
      for (const auto& it : v.list)
        if (it.type != CmcdType::kString) return bad("an inner list of strings");
      break;
    case Expect::kAny: break;
  }
  // Value domains.
  const std::string& k = p.key;
  if (k == "sid" && v.text.size() > 64) return Err("key 'sid': longer than 64 characters");
  if ((k == "cid" || k == "cdn") && v.text.size() > 128)
    return Err("key '" + k + "': longer than 128 characters");
  if (k == "ot" && !OneOf(v.text, {"m", "a", "v", "av", "i", "c", "tt", "k", "o"}))
    return Err("key 'ot': not one of m,a,v,av,i,c,tt,k,o");
  if (k == "sf" && !OneOf(v.text, {"d", "h", "s", "o"})) return Err("key 'sf': not one of d,h,s,o");
  if (k == "st" && !OneOf(v.text, {"v", "l"})) return Err("key 'st': not one of v,l");
  if (k == "sta" && !OneOf(v.text, {"s", "p", "k", "r", "a", "w", "e", "f", "q", "d"}))
    return Err("key 'sta': not one of s,p,k,r,a,w,e,f,q,d");
  if (k == "v" && v.integer != 1 && v.integer != 2) return Err("key 'v': unsupported version");
  if (k == "pr" && (v.type == CmcdType::kDecimal ? v.decimal : static_cast<double>(v.integer)) < 0)
    return Err("key 'pr': negative");
  return Status::Ok();
}

Result<CmcdData> Validate(std::vector<CmcdPair> pairs, int version_hint) {
  CmcdData d;
  d.version = version_hint > 0 ? version_hint : 1;
  for (const auto& p : pairs)
    if (p.key == "v" && p.value.type == CmcdType::kInteger) d.version = static_cast<int>(p.value.integer);
  for (const auto& p : pairs) RETURN_IF_ERROR(CheckType(p, d.version));
  // Drop unknown non-custom keys; keep custom ones (which carry a '-').
  for (auto& p : pairs) {
    if (FindKey(p.key) == nullptr && p.key.find('-') == std::string::npos) continue;
    d.pairs.push_back(std::move(p));
  }
  return d;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A JSON report (v2 JSON mode) as pairs: numbers, strings (tokens for token keys), booleans,
// arrays (inner lists).
Status JsonToPairs(simdjson::dom::object o, std::vector<CmcdPair>* out) {
  for (auto f : o) {
    CmcdPair p;
    p.key.assign(f.key);
    const KeySpec* spec = FindKey(p.key);
    bool token_key = spec != nullptr && spec->v2 == Expect::kToken;
    simdjson::dom::element v = f.value;
    auto scalar = [&](simdjson::dom::element x, CmcdItem* it) -> Status {
      int64_t i;
      double d;
      std::string_view s;
      bool b;
      if (x.get_int64().get(i) == simdjson::SUCCESS) {
        it->type = CmcdType::kInteger;
        it->integer = i;
      } else if (x.get_double().get(d) == simdjson::SUCCESS) {
        it->type = CmcdType::kDecimal;
        it->decimal = d;
      } else if (x.get_string().get(s) == simdjson::SUCCESS) {
        it->type = token_key ? CmcdType::kToken : CmcdType::kString;
        it->text.assign(s);
      } else if (x.get_bool().get(b) == simdjson::SUCCESS) {
        it->type = CmcdType::kBoolean;
        it->integer = b;
      } else {
        return Err("key '" + p.key + "': unsupported JSON value");
      }
      return Status::Ok();
    };
    simdjson::dom::array a;
    if (v.get_array().get(a) == simdjson::SUCCESS) {
      p.value.type = CmcdType::kList;
      for (auto x : a) {
        CmcdItem it;
        RETURN_IF_ERROR(scalar(x, &it));
        p.value.list.push_back(std::move(it));
        if (p.value.list.size() > 64) return Err("key '" + p.key + "': list longer than 64 items");
      }
    } else {
      CmcdItem it;
      RETURN_IF_ERROR(scalar(v, &it));
      p.value.type = it.type;
      p.value.integer = it.integer;
      p.value.decimal = it.decimal;
      p.value.text = std::move(it.text);
      if (it.type == CmcdType::kBoolean) p.value.boolean = it.integer != 0;
    }
    for (const auto& q : *out)
      if (q.key == p.key) return Err("duplicate key '" + p.key + "'");
    out->push_back(std::move(p));
  }
  return Status::Ok();
}

std::string_view EventName(const CmcdData& d) {
  const CmcdValue* e = d.Find("e");
  if (e == nullptr) return "cmcd_request";
  static constexpr std::pair<std::string_view, std::string_view> kNames[] = {
      {"ps", "cmcd_play_state"},       {"e", "cmcd_error"},
      {"t", "cmcd_time_interval"},     {"bc", "cmcd_bitrate_change"},
      {"c", "cmcd_content_change"},    {"b", "cmcd_backgrounded"},
      {"m", "cmcd_mute"},              {"um", "cmcd_unmute"},
      {"pe", "cmcd_player_expand"},    {"pc", "cmcd_player_collapse"},
      {"rr", "cmcd_response_received"}, {"as", "cmcd_ad_start"},
      {"ae", "cmcd_ad_end"},           {"abs", "cmcd_ad_break_start"},
      {"abe", "cmcd_ad_break_end"},    {"sk", "cmcd_skip"},
      {"ce", "cmcd_custom_event"}};
  for (const auto& [k, n] : kNames)
    if (e->text == k) return n;
  return "cmcd_event";
}

// nor/url values may carry signed paths: keep the path shape, drop query and fragment, redact
// token-like segments; absolute URLs go through the general URL redaction.
std::string RedactCmcdPath(std::string_view v) {
  if (ShouldRedactMetaValue("url", v) && v.find("://") != std::string_view::npos) return RedactUrl(v);
  size_t cut = v.find_first_of("?#");
  v = v.substr(0, cut);
  std::string out;
  size_t start = 0;
  while (true) {
    size_t slash = v.find('/', start);
    std::string_view seg = v.substr(start, slash == std::string_view::npos ? slash : slash - start);
    out.append(IsTokenLikeSegment(seg) ? ":redacted" : seg);
    if (slash == std::string_view::npos) break;
    out.push_back('/');
    start = slash + 1;
  }
  return out;
}

void AppendNumber(std::string* out, double d) {
  if (!std::isfinite(d)) {
    out->append("0");
    return;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.17g", d);
  out->append(buf);
}

void AppendItem(std::string* out, const std::string& key, const CmcdItem& it) {
  switch (it.type) {
    case CmcdType::kInteger: out->append(std::to_string(it.integer)); break;
    case CmcdType::kDecimal: AppendNumber(out, it.decimal); break;
    case CmcdType::kBoolean: out->append(it.integer ? "true" : "false"); break;
    default:
      if (key == "nor" || key == "url") {
        AppendJsonString(out, RedactCmcdPath(it.text));
      } else if (ShouldRedactMetaValue(key, it.text) &&
                 it.text.find("://") != std::string::npos) {
        AppendJsonString(out, RedactUrl(it.text));
      } else {
        AppendJsonString(out, it.text);
      }
  }
}

}  // namespace

const CmcdValue* CmcdData::Find(std::string_view key) const {
  for (const auto& p : pairs)
    if (p.key == key) return &p.value;
  return nullptr;
}

Result<CmcdData> ParseCmcdDictionary(std::string_view text, int version_hint) {
  if (text.size() > 16384) return Err("dictionary longer than 16384 bytes");
  std::vector<CmcdPair> pairs;
  RETURN_IF_ERROR(DictParser(text).Parse(&pairs));
  return Validate(std::move(pairs), version_hint);
}

Result<CmcdData> ParseCmcdQuery(std::string_view query) {
  size_t start = 0;
  while (start <= query.size()) {
    size_t amp = query.find('&', start);
    std::string_view arg = query.substr(start, amp == std::string_view::npos ? amp : amp - start);
    if (arg.substr(0, 5) == "CMCD=") {
      std::string decoded;
      std::string_view v = arg.substr(5);
      for (size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '%') {
          if (i + 2 >= v.size() || HexValue(v[i + 1]) < 0 || HexValue(v[i + 2]) < 0)
            return Err("bad percent-encoding in the CMCD query argument");
          decoded.push_back(static_cast<char>(HexValue(v[i + 1]) << 4 | HexValue(v[i + 2])));
          i += 2;
        } else {
          decoded.push_back(v[i]);
        }
      }
      return ParseCmcdDictionary(decoded);
    }
    if (amp == std::string_view::npos) break;
    start = amp + 1;
  }
  return NotFound("no CMCD query argument");
}

Result<CmcdData> ParseCmcdHeaders(std::string_view request, std::string_view object,
                                  std::string_view status, std::string_view session) {
  std::vector<CmcdPair> all;
  for (std::string_view h : {session, request, object, status}) {
    if (h.size() > 16384) return Err("header longer than 16384 bytes");
    std::vector<CmcdPair> pairs;
    RETURN_IF_ERROR(DictParser(h).Parse(&pairs));
    for (auto& p : pairs) {
      for (const auto& q : all)
        if (q.key == p.key) return Err("key '" + p.key + "' in more than one CMCD header");
      all.push_back(std::move(p));
    }
  }
  return Validate(std::move(all), 0);
}

Result<std::vector<CmcdData>> ParseCmcdReports(std::string_view body) {
  std::vector<CmcdData> out;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return Err("empty report body");
  if (body[first] == '[' || body[first] == '{') {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    if (auto err = parser.parse(body.data(), body.size()).get(root))
      return Err(std::string("invalid JSON: ") + simdjson::error_message(err));
    std::vector<simdjson::dom::object> objects;
    simdjson::dom::array arr;
    simdjson::dom::object obj;
    if (root.get_array().get(arr) == simdjson::SUCCESS) {
      for (auto x : arr) {
        if (x.get_object().get(obj) != simdjson::SUCCESS) return Err("report is not an object");
        objects.push_back(obj);
      }
    } else if (root.get_object().get(obj) == simdjson::SUCCESS) {
      objects.push_back(obj);
    }
    if (objects.size() > 1000) return Err("more than 1000 reports");
    for (auto o : objects) {
      std::vector<CmcdPair> pairs;
      RETURN_IF_ERROR(JsonToPairs(o, &pairs));
      ASSIGN_OR_RETURN(CmcdData d, Validate(std::move(pairs), 2));
      out.push_back(std::move(d));
    }
    return out;
  }
  size_t start = 0;
  while (start < body.size()) {
    size_t nl = body.find('\n', start);
    std::string_view line = body.substr(start, nl == std::string_view::npos ? nl : nl - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!line.empty()) {
      if (out.size() >= 1000) return Err("more than 1000 reports");
      ASSIGN_OR_RETURN(CmcdData d, ParseCmcdDictionary(line, 2));
      out.push_back(std::move(d));
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (out.empty()) return Err("empty report body");
  return out;
}

Status CmcdToEvent(const CmcdData& d, std::string_view project_id, uint64_t now,
                   otlp::Batch* batch) {
  const CmcdValue* sid = d.Find("sid");
  if (sid == nullptr || sid->text.empty())
    return Err("key 'sid' is required to attach the report to a session");
  uint64_t client_ns = now;
  if (const CmcdValue* ts = d.Find("ts"); ts != nullptr && ts->type == CmcdType::kInteger &&
                                               ts->integer > 0 && ts->integer < 10'000'000'000'000) {
    client_ns = static_cast<uint64_t>(ts->integer) * 1'000'000ULL;
  }
  thread_local std::string meta;
  meta.assign("{");
  bool first = true;
  for (const auto& p : d.pairs) {
    if (p.key == "sid" || p.key == "ts" || p.key == "sn") continue;
    if (!first) meta.push_back(',');
    first = false;
    AppendJsonString(&meta, "cmcd." + p.key);
    meta.push_back(':');
    const CmcdValue& v = p.value;
    switch (v.type) {
      case CmcdType::kBoolean: meta.append(v.boolean ? "true" : "false"); break;
      case CmcdType::kInteger: meta.append(std::to_string(v.integer)); break;
      case CmcdType::kDecimal: AppendNumber(&meta, v.decimal); break;
      case CmcdType::kList: {
        const KeySpec* spec = FindKey(p.key);
        bool numeric = spec != nullptr && spec->v2 == Expect::kIntegerList;
        if (numeric && !v.list.empty()) {
          // QoE reads the first (main: video or muxed) item.
          AppendItem(&meta, p.key, v.list.front());
        } else {
          meta.push_back('[');
          for (size_t i = 0; i < v.list.size(); ++i) {
            if (i) meta.push_back(',');
            AppendItem(&meta, p.key, v.list[i]);
          }
          meta.push_back(']');
        }
        break;
      }
      default: {
        CmcdItem it;
        it.type = v.type;
        it.text = v.text;
        AppendItem(&meta, p.key, it);
      }
    }
  }
  meta.push_back('}');
  otlp::PlaybackEvent& e = batch->playback_events.emplace_back();
  e.event_name = batch->arena.Copy(EventName(d));
  e.project_id = batch->arena.Copy(project_id);
  e.session_id = batch->arena.Copy(sid->text);
  e.client_timestamp = batch->arena.Copy(FormatRfc3339Millis(client_ns));
  e.client_unix_nanos = client_ns;
  if (const CmcdValue* sn = d.Find("sn"); sn != nullptr && sn->type == CmcdType::kInteger) {
    e.has_sequence_number = true;
    e.sequence_number = sn->integer;
  }
  e.sdk_name = "cmcd";  // static storage: string literals outlive the batch
  e.sdk_version = d.version >= 2 ? "2" : "1";
  e.schema_version = d.version >= 2 ? "cmcd-2" : "cmcd-1";
  e.meta_json = meta.size() > 2 ? batch->arena.Copy(meta) : std::string_view();
  e.server_received_unix_nanos = now;
  uint64_t skew = client_ns > now ? client_ns - now : now - client_ns;
  e.time_skew_warning = skew > 60ull * 1'000'000'000ull;
  e.source = otlp::PlaybackSource::kCmcd;
  return Status::Ok();
}

}  // namespace avtrace::player
