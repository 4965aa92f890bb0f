// One-pass HLS parser. Reads line by line; tags update the state that the next URI line turns
// into a segment or a variant. Parse copies the input once into the Playlist's shared text buffer;
// attribute lists, URIs and every string in the model are views of that copy. Only values after
// variable substitution are built (and kept in the same buffer).
//
// Hot path (a Media Playlist is mostly "#EXTINF:<d>,<title>" + URI line pairs): the encoding
// scan reads 64 bytes at a time (SSE2 where available, a byte loop otherwise) and records every
// line feed in a bitmap that the line loop walks; EXTINF and URI lines skip the general tag
// dispatch; the URI character check reads 16 bytes at a time; segments are built in place in a
// vector reserved from the line count. docs/BENCHMARKS.md has the numbers.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "analyzer/hls/checks.h"
#include "analyzer/hls/playlist.h"
#include "analyzer/text.h"

namespace avtrace::analyzer::hls {
namespace {

struct Attribute {
  std::string_view name;
  std::string_view value;  // without the quotes when quoted
  bool quoted = false;
};

// A tag's attribute list. Small and linear: tags have a handful of attributes.
class Attributes {
 public:
  const Attribute* Find(std::string_view name) const {
    for (const auto& a : items_)
      if (a.name == name) return &a;
    return nullptr;
  }
  bool Has(std::string_view name) const { return Find(name) != nullptr; }
  std::vector<Attribute>& items() { return items_; }
  const std::vector<Attribute>& items() const { return items_; }

 private:
  std::vector<Attribute> items_;
};

// The first `c` in [p, end), or end. Inline and 16 bytes at a time: lines are short, and a
// library memchr call costs more than the search itself. Bytes up to `readable` (>= end; the end
// of the text buffer) may be read, so a short range still takes one 16-byte load.
const char* FindByte(const char* p, const char* end, char c, const char* readable) {
#if defined(__SSE2__)
  const __m128i needle = _mm_set1_epi8(c);
  for (; p < end && readable - p >= 16; p += 16) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if (int m = _mm_movemask_epi8(_mm_cmpeq_epi8(v, needle))) {
      const char* hit = p + std::countr_zero(static_cast<unsigned>(m));
      return hit < end ? hit : end;
    }
  }
#else
  (void)readable;
#endif
  for (; p < end; ++p)
    if (*p == c) return p;
  return end;
}

// a == b for two views into a buffer that ends at `readable`; one 16-byte compare when both are
// that short and far enough from the end.
bool SameShort(std::string_view a, std::string_view b, const char* readable) {
  if (a.size() != b.size()) return false;
#if defined(__SSE2__)
  if (a.size() <= 16 && readable - a.data() >= 16 && readable - b.data() >= 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a.data()));
    __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b.data()));
    unsigned differ = ~static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)));
    return (differ & ((1u << a.size()) - 1)) == 0;
  }
#else
  (void)readable;
#endif
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// True when `s` (not empty) neither starts nor ends with a space or tab: Trim(s) == s.
bool IsTrimmed(std::string_view s) {
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  return !blank(s.front()) && !blank(s.back());
}

bool IsAttrNameChar(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'; }

bool IsHexSequence(std::string_view v) {
  if (v.size() < 3 || v[0] != '0' || (v[1] != 'x' && v[1] != 'X')) return false;
  for (size_t i = 2; i < v.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(v[i]))) return false;
  return true;
}

bool IsUriUnsafeChar(unsigned char c) {
  return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' || c == '^' ||
         c == '`' || c == '{' || c == '|' || c == '}';
}

#if defined(__SSE2__)
// Bit i set when byte i of `v` is one IsUriUnsafeChar rejects. Pairs that differ in one bit are
// tested with one compare: (c | 2) == '>' is '<' or '>', (c | 2) == '^' is '\\' or '^',
// (c | 1) == '}' is '|' or '}', (c | 4) == 0x7f is '{' or DEL.
[[gnu::always_inline]] inline int UriUnsafeMask(__m128i v) {
  auto eq = [](__m128i x, char c) { return _mm_cmpeq_epi8(x, _mm_set1_epi8(c)); };
  const __m128i v1 = _mm_or_si128(v, _mm_set1_epi8(1));
  const __m128i v2 = _mm_or_si128(v, _mm_set1_epi8(2));
  const __m128i v4 = _mm_or_si128(v, _mm_set1_epi8(4));
  __m128i bad = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);  // <= 0x20, unsigned
  bad = _mm_or_si128(bad, _mm_or_si128(eq(v, '"'), eq(v, '`')));
  bad = _mm_or_si128(bad, _mm_or_si128(eq(v2, '>'), eq(v2, '^')));
  bad = _mm_or_si128(bad, _mm_or_si128(eq(v1, '}'), eq(v4, 0x7f)));
  return _mm_movemask_epi8(bad);
}
#endif

// No control characters, spaces or the characters RFC 3986 excludes from URIs. Note that '{'
// is excluded: a safe line contains no variable reference ("{$name}").
bool IsUriSafe(std::string_view uri) {
  const size_t n = uri.size();
  size_t i = 0;
#if defined(__SSE2__)
  if (n >= 16) {
    for (; i + 16 <= n; i += 16)
      if (UriUnsafeMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(uri.data() + i))))
        return false;
    // The last 16 bytes, overlapping what was already checked.
    return !UriUnsafeMask(_mm_loadu_si128(reinterpret_cast<const __m128i*>(uri.data() + n - 16)));
  }
#endif
  for (; i < n; ++i)
    if (IsUriUnsafeChar(static_cast<unsigned char>(uri[i]))) return false;
  return true;
}

bool ParseByteRange(std::string_view s, ByteRange* out) {
  size_t at = s.find('@');
  uint64_t n;
  if (!ParseDecimalInt(s.substr(0, at), &n)) return false;
  out->length = n;
  out->offset.reset();
  if (at != std::string_view::npos) {
    uint64_t o;
    if (!ParseDecimalInt(s.substr(at + 1), &o)) return false;
    out->offset = o;
  }
  return true;
}

// Tags that may appear at most once per playlist (§4.4.1-§4.4.3, §4.4.6.6).
constexpr std::string_view kOnceTags[] = {
    "EXT-X-VERSION",       "EXT-X-TARGETDURATION",  "EXT-X-MEDIA-SEQUENCE",
    "EXT-X-DISCONTINUITY-SEQUENCE", "EXT-X-PLAYLIST-TYPE", "EXT-X-ENDLIST",
    "EXT-X-I-FRAMES-ONLY", "EXT-X-PART-INF",        "EXT-X-SERVER-CONTROL",
    "EXT-X-START",         "EXT-X-INDEPENDENT-SEGMENTS", "EXT-X-CONTENT-STEERING",
    "EXT-X-SKIP"};

// Known tags that need no handling beyond being recognized (vendor cue tags and removed tags).
constexpr std::string_view kPassiveTags[] = {
    "EXT-X-CUE-OUT", "EXT-X-CUE-IN", "EXT-X-CUE-OUT-CONT", "EXT-OATCLS-SCTE35", "EXT-X-SCTE35",
    "EXT-X-ASSET",   "EXT-X-CUE",    "EXT-X-SPLICEPOINT-SCTE35", "EXT-X-ALLOW-CACHE",
    "EXT-X-IMAGE-STREAM-INF", "EXT-X-IMAGES-ONLY", "EXT-X-TILES"};

struct VersionNeed {
  uint64_t version;
  std::string feature;
  int line;
};

class Parser {
 public:
  Parser(std::string_view text, Findings* out)
      : store_(std::make_shared<PlaylistText>()), out_(out) {
    store_->input.assign(text.data(), text.size());
    text_ = store_->input;
    attrs_.items().reserve(16);
  }

  Playlist Run();

 private:
  void Add(RuleId rule, std::string message, std::string location = {}) {
    out_->Add(rule, line_no_, std::move(message), std::move(location));
  }
  void NeedVersion(uint64_t v, std::string_view feature) {
    for (const auto& n : needs_)
      if (n.feature == feature) return;
    needs_.push_back({v, std::string(feature), line_no_});
  }

  void ScanEncoding();
  // Offset in text_ of the first '\n' at or after `from` (text_.size() when none), from the
  // bits ScanEncoding recorded.
  size_t NextNewline(size_t from) const;
  void HandleTag(std::string_view name, std::string_view value);
  void HandleUri(std::string_view line);
  [[gnu::noinline]] void HandleOtherUri(std::string_view line);
  void AddSegment(std::string_view uri);
  // The next Segment from the pending state (takes parts_ and a sequence number).
  Segment MakeSegment(std::string_view uri);
  // Converts to MakeSegment(uri): segments.emplace_back(SegmentFromState{...}) so builds the
  // Segment right in the vector's storage (copy elision through the conversion), where
  // push_back(Segment{...}) builds a temporary and moves it, twice the stores. Segments are most
  // of the parse's writes.
  struct SegmentFromState {
    Parser* parser;
    std::string_view uri;
    operator Segment() const { return parser->MakeSegment(uri); }
  };
  // Out of line, off AddSegment's hot path: the first segment; a pending EXT-X-BYTERANGE.
  [[gnu::noinline]] void StartSegments();
  [[gnu::noinline]] void ResolveRange(std::string_view uri);
  bool ParseAttrs(std::string_view tag, std::string_view value, Attributes* attrs);
  // `s` with {$name} references replaced; a view of `s` itself when it has none, else of a string
  // kept in the text buffer.
  std::string_view Substitute(std::string_view s);

  // Typed attribute reads: report attribute_value_malformed (or `rule`) and return nullopt when
  // present but of the wrong type.
  std::optional<uint64_t> Int(const Attributes& a, std::string_view tag, std::string_view name,
                              RuleId rule = RuleId::kHlsAttributeValueMalformed);
  std::optional<double> Float(const Attributes& a, std::string_view tag, std::string_view name,
                              RuleId rule = RuleId::kHlsAttributeValueMalformed,
                              bool signed_ok = false);
  std::optional<std::string_view> Quoted(const Attributes& a, std::string_view tag,
                                         std::string_view name);
  std::optional<std::string_view> Enum(const Attributes& a, std::string_view tag,
                                       std::string_view name,
                                       RuleId rule = RuleId::kHlsAttributeValueMalformed);
  // YES/NO enumerated-string; reports `rule` for other values.
  bool YesNo(const Attributes& a, std::string_view tag, std::string_view name, RuleId rule);

  void FinishPendingSegment(bool at_end);

  void OnExtinfTag(std::string_view value);  // counts the tag, then OnExtinf
  void OnExtinf(std::string_view value);
  // The part of OnExtinf that is not a repeat of the previous duration (kept out of line).
  [[gnu::noinline]] void ParseExtinfDuration(std::string_view dur, bool has_comma);
  void OnKey(const Attributes& a, bool session);
  void OnMap(const Attributes& a);
  void OnPart(const Attributes& a);
  void OnDateRange(const Attributes& a);
  void OnServerControl(const Attributes& a);
  void OnStreamInf(const Attributes& a, bool iframe);
  void OnMedia(const Attributes& a);
  void OnDefine(const Attributes& a);

  std::shared_ptr<PlaylistText> store_;  // becomes pl_.text
  std::string_view text_;                // store_->input
  Findings* out_;
  int line_no_ = 0;
  int total_lines_ = 0;  // newlines in the text + 1, from ScanEncoding
  std::vector<uint64_t> newline_bits_;  // bit i % 64 of word i / 64: text_[i] == '\n'
  Playlist pl_;
  Attributes attrs_;  // the current tag's attribute list (one tag at a time)

  // Which tag families were seen, to classify the playlist.
  int master_tags_ = 0, media_tags_ = 0;
  int first_master_line_ = 0, first_media_line_ = 0;
  std::vector<std::string_view> once_seen_;
  std::vector<VersionNeed> needs_;
  std::vector<std::pair<std::string_view, std::string_view>> defines_;
  bool unresolved_imports_ = false;

  // The segment being assembled from tags until its URI line.
  bool pending_extinf_ = false;
  int pending_line_ = 0;
  double pending_duration_ = 0;
  std::string_view pending_title_;
  bool next_discontinuity_ = false;
  std::optional<double> next_pdt_;
  std::optional<ByteRange> next_range_;
  bool next_gap_ = false;
  std::vector<PartialSegment> parts_;
  int current_key_ = -1, current_map_ = -1;
  uint64_t current_bitrate_ = 0;
  uint64_t next_msn_ = 0;
  uint64_t disc_seq_ = 0;
  bool saw_discontinuity_ = false;
  bool saw_segment_ = false;
  bool media_sequence_set_ = false;
  // Previous segment's byte-range end and URI, for ranges without an offset (§4.4.4.2).
  std::string_view last_range_uri_;
  std::optional<uint64_t> last_range_end_;
  // A STREAM-INF waiting for its URI line.
  bool pending_variant_ = false;
  Variant variant_;
  bool has_float_extinf_ = false;
  // The last well-formed EXTINF duration text and its value, to skip re-parsing repeats.
  std::string_view last_extinf_;
  double last_extinf_value_ = 0;
  bool saw_extm3u_ = false;
};

std::optional<uint64_t> Parser::Int(const Attributes& a, std::string_view tag,
                                    std::string_view name, RuleId rule) {
  const Attribute* at = a.Find(name);
  if (!at) return std::nullopt;
  uint64_t v;
  if (at->quoted || !ParseDecimalInt(at->value, &v)) {
    Add(rule, std::string(tag) + " " + std::string(name) + "=" + std::string(at->value) +
                  " is not a decimal-integer.");
    return std::nullopt;
  }
  return v;
}

std::optional<double> Parser::Float(const Attributes& a, std::string_view tag,
                                    std::string_view name, RuleId rule, bool signed_ok) {
  const Attribute* at = a.Find(name);
  if (!at) return std::nullopt;
  double v;
  if (at->quoted || !ParseDecimalFloat(at->value, &v, signed_ok)) {
    Add(rule, std::string(tag) + " " + std::string(name) + "=" + std::string(at->value) +
                  " is not a " + (signed_ok ? "signed-" : "") + "decimal-floating-point.");
    return std::nullopt;
  }
  return v;
}

std::optional<std::string_view> Parser::Quoted(const Attributes& a, std::string_view tag,
                                               std::string_view name) {
  const Attribute* at = a.Find(name);
  if (!at) return std::nullopt;
  if (!at->quoted)
    Add(RuleId::kHlsAttributeValueMalformed,
        std::string(tag) + " " + std::string(name) + " must be a quoted-string.");
  return Substitute(at->value);
}

std::optional<std::string_view> Parser::Enum(const Attributes& a, std::string_view tag,
                                             std::string_view name, RuleId rule) {
  const Attribute* at = a.Find(name);
  if (!at) return std::nullopt;
  if (at->quoted) {
    Add(rule, std::string(tag) + " " + std::string(name) +
                  " is an enumerated-string and must not be quoted.");
  }
  return at->value;
}

bool Parser::YesNo(const Attributes& a, std::string_view tag, std::string_view name,
                   RuleId rule) {
  auto v = Enum(a, tag, name, rule);
  if (!v) return false;
  if (*v == "YES") return true;
  if (*v != "NO")
    Add(rule, std::string(tag) + " " + std::string(name) + "=" + std::string(*v) +
                  " must be YES or NO.");
  return false;
}

bool Parser::ParseAttrs(std::string_view tag, std::string_view value, Attributes* attrs) {
  auto& items = attrs->items();
  items.clear();
  size_t i = 0;
  const size_t n = value.size();
  auto fail = [&](std::string_view why) {
    Add(RuleId::kHlsAttributeListMalformed, "#" + std::string(tag) + ": " + std::string(why));
    return false;
  };
  while (i < n) {
    size_t name_start = i;
    while (i < n && value[i] != '=' && value[i] != ',') ++i;
    std::string_view name = value.substr(name_start, i - name_start);
    if (i >= n || value[i] != '=') return fail("attribute '" + std::string(name) + "' has no value.");
    if (name.empty()) return fail("empty attribute name.");
    for (char c : name)
      if (!IsAttrNameChar(c))
        return fail("attribute name '" + std::string(name) + "' is not [A-Z0-9-].");
    ++i;  // '='
    Attribute at;
    at.name = name;
    if (i < n && value[i] == '"') {
      size_t close = value.find('"', i + 1);
      if (close == std::string_view::npos) return fail("unterminated quoted-string.");
      at.value = value.substr(i + 1, close - i - 1);
      at.quoted = true;
      i = close + 1;
      if (i < n && value[i] != ',')
        return fail("unexpected characters after the quoted value of " + std::string(name) + ".");
    } else {
      size_t start = i;
      while (i < n && value[i] != ',') ++i;
      at.value = value.substr(start, i - start);
      if (at.value.empty()) return fail("attribute " + std::string(name) + " has an empty value.");
      for (char c : at.value)
        if (c == ' ' || c == '\t' || c == '"')
          return fail("unquoted value of " + std::string(name) + " contains whitespace or quotes.");
    }
    for (const auto& prev : items) {
      if (prev.name == at.name) {
        Add(RuleId::kHlsAttributeDuplicate,
            "#" + std::string(tag) + " repeats attribute " + std::string(at.name) + ".");
        break;
      }
    }
    if (StartsWith(at.name, "REQ-")) NeedVersion(12, "REQ- attributes");
    items.push_back(at);
    if (i < n) {
      ++i;  // ','
      if (i == n) return fail("trailing comma.");
    }
  }
  return true;
}

std::string_view Parser::Substitute(std::string_view s) {
  if (s.find("{$") == std::string_view::npos) return s;
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    size_t open = s.find("{$", i);
    if (open == std::string_view::npos) break;
    size_t close = s.find('}', open + 2);
    if (close == std::string_view::npos) break;
    std::string_view name = s.substr(open + 2, close - open - 2);
    out.append(s.substr(i, open - i));
    auto it = std::find_if(defines_.begin(), defines_.end(),
                           [&](const auto& d) { return d.first == name; });
    if (it != defines_.end()) {
      out.append(it->second);
    } else {
      if (!unresolved_imports_)
        Add(RuleId::kHlsVariableUndefined,
            "Variable reference {$" + std::string(name) + "} has no EXT-X-DEFINE.");
      out.append(s.substr(open, close - open + 1));
    }
    i = close + 1;
  }
  out.append(s.substr(std::min(i, s.size())));
  store_->built.push_front(std::move(out));
  return store_->built.front();
}

void Parser::ScanEncoding() {
  // §4.1: UTF-8, no BOM, no control characters but CR and LF. One pass, reports once each. Also
  // counts the lines (which bounds the number of segments) and records where they end.
  bool bad_utf8 = false, control = false;
  int line = 1;
  const size_t n = text_.size();
  const char* p = text_.data();
  newline_bits_.assign((n + 63) / 64, 0);
  uint64_t* bits = newline_bits_.data();
  size_t i = 0;
#if defined(__SSE2__)
  // Newlines of plain blocks, counted per byte lane (at most 4 per block, flushed before a lane
  // can reach 256) and added to `line` before any byte-by-byte walk needs it exact.
  __m128i lane_newlines = _mm_setzero_si128();
  int pending_blocks = 0;
  auto flush_newlines = [&] {
    __m128i sums = _mm_sad_epu8(lane_newlines, _mm_setzero_si128());
    line += _mm_cvtsi128_si32(sums) + _mm_cvtsi128_si32(_mm_srli_si128(sums, 8));
    lane_newlines = _mm_setzero_si128();
    pending_blocks = 0;
  };
#endif
  while (i < n) {
    const size_t stop = std::min(n, (i | 63) + 1);  // the end of i's 64-byte block
#if defined(__SSE2__)
    if (i % 64 == 0 && stop == i + 64) {
      // A block of printable ASCII, TAB, CR and LF needs no closer look: record its newlines.
      // As signed bytes, v + 1 < 0x21 is exactly: a control character, DEL or a byte >= 0x80;
      // (v | 4) == '\r' is exactly TAB or CR.
      uint64_t newlines = 0;
      __m128i special = _mm_setzero_si128();
      __m128i count = _mm_setzero_si128();
      __m128i v[4];
      auto chunk = [&](int k) {
        v[k] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i + 16 * k));
        __m128i nl = _mm_cmpeq_epi8(v[k], _mm_set1_epi8('\n'));
        __m128i odd = _mm_cmplt_epi8(_mm_add_epi8(v[k], _mm_set1_epi8(1)), _mm_set1_epi8(0x21));
        special = _mm_or_si128(special, _mm_andnot_si128(nl, odd));
        newlines |= uint64_t{static_cast<uint16_t>(_mm_movemask_epi8(nl))} << (16 * k);
        count = _mm_add_epi8(count, nl);  // nl lanes are -1 or 0
      };
      chunk(0);  // unrolled by hand: -O2 keeps a loop
      chunk(1);
      chunk(2);
      chunk(3);
      // The test above also flags TAB and CR (CRLF files, indented lines); only then redo it
      // exactly, so that plain LF blocks pay for one compare less per 16 bytes.
      if (_mm_movemask_epi8(special) != 0) {
        special = _mm_setzero_si128();
        for (int k = 0; k < 4; ++k) {
          __m128i allowed = _mm_or_si128(
              _mm_cmpeq_epi8(v[k], _mm_set1_epi8('\n')),
              _mm_cmpeq_epi8(_mm_or_si128(v[k], _mm_set1_epi8(4)), _mm_set1_epi8('\r')));
          __m128i odd = _mm_cmplt_epi8(_mm_add_epi8(v[k], _mm_set1_epi8(1)), _mm_set1_epi8(0x21));
          special = _mm_or_si128(special, _mm_andnot_si128(allowed, odd));
        }
      }
      if (_mm_movemask_epi8(special) == 0) {
        bits[i / 64] = newlines;
        lane_newlines = _mm_sub_epi8(lane_newlines, count);
        if (++pending_blocks == 63) flush_newlines();
        i += 64;
        continue;
      }
    }
    flush_newlines();
#endif
    while (i < stop) {  // may end up to 3 bytes past `stop` (a UTF-8 sequence)
      unsigned char c = static_cast<unsigned char>(p[i]);
      if (c < 0x80) {
        if (c == '\n') {
          ++line;
          bits[i / 64] |= uint64_t{1} << (i % 64);
        } else if ((c < 0x20 && c != '\r' && c != '\t') || c == 0x7f) {
          if (!control)
            out_->Add(RuleId::kHlsControlCharacters, line,
                      "Control character 0x" + std::string(1, "0123456789abcdef"[c >> 4]) +
                          std::string(1, "0123456789abcdef"[c & 15]) + " in the playlist.");
          control = true;
        }
        ++i;
        continue;
      }
      size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
      bool ok = len != 0 && i + len <= n && !(len == 2 && c < 0xC2);
      for (size_t k = 1; ok && k < len; ++k)
        ok = (static_cast<unsigned char>(p[i + k]) & 0xC0) == 0x80;
      if (!ok) {
        if (!bad_utf8) out_->Add(RuleId::kHlsInvalidUtf8, line, "Invalid UTF-8 byte sequence.");
        bad_utf8 = true;
        ++i;
      } else {
        i += len;  // continuation bytes are never '\n'
      }
    }
  }
#if defined(__SSE2__)
  flush_newlines();
#endif
  total_lines_ = line;
}

size_t Parser::NextNewline(size_t from) const {
  const size_t words = newline_bits_.size();
  size_t w = from / 64;
  if (w >= words) return text_.size();
  uint64_t m = newline_bits_[w] & (~uint64_t{0} << (from % 64));
  while (m == 0) {
    if (++w == words) return text_.size();
    m = newline_bits_[w];
  }
  return w * 64 + static_cast<size_t>(std::countr_zero(m));
}

void Parser::FinishPendingSegment(bool at_end) {
  if (pending_extinf_) {
    out_->Add(RuleId::kHlsSegmentMissingUri, pending_line_,
              at_end ? "EXTINF at the end of the playlist has no URI line."
                     : "EXTINF is not followed by a URI line before the next EXTINF.");
    pending_extinf_ = false;
  }
}

void Parser::OnExtinf(std::string_view value) {
  if (pending_extinf_) FinishPendingSegment(false);
  pending_extinf_ = true;
  pending_line_ = line_no_;
  const char* const end = value.data() + value.size();
  const char* readable = text_.data() + text_.size();
  const char* comma = FindByte(value.data(), end, ',', readable);
  const bool has_comma = comma != end;
  std::string_view dur(value.data(), static_cast<size_t>(comma - value.data()));
  if (dur.empty() || !IsTrimmed(dur)) dur = Trim(dur);
  pending_title_ = has_comma ? std::string_view(comma + 1, static_cast<size_t>(end - comma - 1))
                             : std::string_view();
  // Playlists repeat the same duration text ("6.006"); it already passed every check below.
  if (has_comma && !last_extinf_.empty() && SameShort(dur, last_extinf_, readable)) {
    pending_duration_ = last_extinf_value_;
    return;
  }
  ParseExtinfDuration(dur, has_comma);
}

void Parser::ParseExtinfDuration(std::string_view dur, bool has_comma) {
  double d;
  const bool ok = ParseDecimalFloat(dur, &d);
  if (!ok) {
    Add(RuleId::kHlsSegmentMalformedExtinf,
        "EXTINF duration '" + std::string(dur) + "' is not a non-negative decimal number.");
    d = 0;
  } else if (!has_comma) {
    Add(RuleId::kHlsSegmentMalformedExtinf, "EXTINF has no comma after the duration.");
  }
  if (!has_float_extinf_ && d > 0 && !IsDecimalInteger(dur)) {
    has_float_extinf_ = true;
    NeedVersion(3, "floating-point EXTINF durations");
  }
  pending_duration_ = d;
  // Remember a duration that raised no finding; a repeat raises none either (the version need
  // above is already recorded or does not apply).
  if (has_comma && ok) {
    last_extinf_ = dur;
    last_extinf_value_ = d;
  }
}

void Parser::OnKey(const Attributes& a, bool session) {
  const char* tag = session ? "EXT-X-SESSION-KEY" : "EXT-X-KEY";
  RuleId rule = session ? RuleId::kHlsSessionKeyInvalid : RuleId::kHlsKeyInvalid;
  Key k;
  k.line = line_no_;
  auto method = Enum(a, tag, "METHOD", rule);
  if (!method) {
    Add(rule, std::string(tag) + " has no METHOD.");
  } else {
    k.method = *method;
    if (k.method != "NONE" && k.method != "AES-128" && k.method != "SAMPLE-AES" &&
        k.method != "SAMPLE-AES-CTR")
      Add(rule, std::string(tag) + " METHOD=" + std::string(k.method) + " is not NONE, AES-128 or SAMPLE-AES.");
  }
  if (auto uri = Quoted(a, tag, "URI")) k.uri = *uri;
  if (auto iv = a.Find("IV")) {
    k.iv = iv->value;
    if (iv->quoted || !IsHexSequence(iv->value) || iv->value.size() != 34)
      Add(rule, std::string(tag) + " IV must be a 128-bit hexadecimal-sequence (0x + 32 digits).");
    NeedVersion(2, "the IV attribute of EXT-X-KEY");
  }
  if (auto kf = Quoted(a, tag, "KEYFORMAT")) {
    k.keyformat = *kf;
    NeedVersion(5, "KEYFORMAT/KEYFORMATVERSIONS");
  }
  if (a.Has("KEYFORMATVERSIONS")) NeedVersion(5, "KEYFORMAT/KEYFORMATVERSIONS");
  if (k.method == "NONE") {
    if (session) {
      Add(rule, "EXT-X-SESSION-KEY METHOD must not be NONE.");
    } else if (a.items().size() > 1) {
      Add(rule, "EXT-X-KEY METHOD=NONE must not have other attributes.");
    }
  } else if (method && k.uri.empty()) {
    Add(rule, std::string(tag) + " METHOD=" + std::string(k.method) + " needs a URI.");
  }
  if (session) return;
  ++media_tags_;
  pl_.media.keys.push_back(k);
  current_key_ = k.method == "NONE" ? -1 : static_cast<int>(pl_.media.keys.size()) - 1;
}

void Parser::OnMap(const Attributes& a) {
  InitSection m;
  m.line = line_no_;
  if (auto uri = Quoted(a, "EXT-X-MAP", "URI")) m.uri = *uri;
  else Add(RuleId::kHlsMapMissingUri, "EXT-X-MAP has no URI attribute.");
  if (auto br = a.Find("BYTERANGE")) {
    ByteRange r;
    if (!br->quoted || !ParseByteRange(br->value, &r)) {
      Add(RuleId::kHlsByterangeMalformed,
          "EXT-X-MAP BYTERANGE \"" + std::string(br->value) + "\" is not a quoted <n>[@<o>].");
    } else {
      m.range = r;
    }
  }
  pl_.media.maps.push_back(m);
  current_map_ = static_cast<int>(pl_.media.maps.size()) - 1;
}

void Parser::OnPart(const Attributes& a) {
  PartialSegment p;
  p.line = line_no_;
  auto uri = Quoted(a, "EXT-X-PART", "URI");
  auto dur = Float(a, "EXT-X-PART", "DURATION", RuleId::kLlhlsPartInvalid);
  if (!uri || !a.Has("DURATION"))
    Add(RuleId::kLlhlsPartInvalid, "EXT-X-PART needs both URI and DURATION.");
  if (uri) p.uri = *uri;
  if (dur) p.duration = *dur;
  p.independent = YesNo(a, "EXT-X-PART", "INDEPENDENT", RuleId::kLlhlsPartInvalid);
  p.gap = YesNo(a, "EXT-X-PART", "GAP", RuleId::kLlhlsPartInvalid);
  if (auto br = a.Find("BYTERANGE")) {
    ByteRange r;
    if (!br->quoted || !ParseByteRange(br->value, &r))
      Add(RuleId::kLlhlsPartInvalid, "EXT-X-PART BYTERANGE must be a quoted <n>[@<o>].");
    else
      p.range = r;
  }
  parts_.push_back(std::move(p));
}

void Parser::OnDateRange(const Attributes& a) {
  const char* tag = "EXT-X-DATERANGE";
  DateRange d;
  d.line = line_no_;
  for (const auto& at : a.items())
    d.attributes.emplace_back(at.name, at.value);
  auto id = Quoted(a, tag, "ID");
  if (id) d.id = *id;
  if (auto c = Quoted(a, tag, "CLASS")) d.klass = *c;
  auto date = [&](std::string_view name) -> std::optional<double> {
    auto v = Quoted(a, tag, name);
    if (!v) return std::nullopt;
    auto t = ParseIso8601(*v);
    if (!t) Add(RuleId::kHlsDaterangeMalformed,
                "EXT-X-DATERANGE " + std::string(name) + " \"" + std::string(*v) + "\" is not an ISO 8601 date.");
    return t;
  };
  d.start = date("START-DATE");
  d.end = date("END-DATE");
  if (!id || !a.Has("START-DATE")) {
    Add(RuleId::kHlsDaterangeMissingAttr,
        std::string("EXT-X-DATERANGE has no ") + (!id ? "ID" : "START-DATE") + ".");
  }
  d.duration = Float(a, tag, "DURATION", RuleId::kHlsDaterangeMalformed);
  d.planned_duration = Float(a, tag, "PLANNED-DURATION", RuleId::kHlsDaterangeMalformed);
  d.end_on_next = YesNo(a, tag, "END-ON-NEXT", RuleId::kHlsDaterangeEndOnNext);
  if (d.start && d.end && *d.end < *d.start)
    Add(RuleId::kHlsDaterangeMalformed, "EXT-X-DATERANGE END-DATE is before START-DATE.");
  if (d.start && d.end && d.duration && std::fabs(*d.start + *d.duration - *d.end) > 0.001)
    Add(RuleId::kHlsDaterangeDurationMismatch,
        "EXT-X-DATERANGE END-DATE is not START-DATE + DURATION (" + FormatNumber(*d.duration) +
            " s).");
  if (d.end_on_next && (d.klass.empty() || d.duration || d.end))
    Add(RuleId::kHlsDaterangeEndOnNext,
        "EXT-X-DATERANGE END-ON-NEXT=YES needs CLASS and must not have DURATION or END-DATE.");
  for (std::string_view name : {"SCTE35-CMD", "SCTE35-OUT", "SCTE35-IN"}) {
    const Attribute* at = a.Find(name);
    if (!at) continue;
    if (name == "SCTE35-CMD") d.scte35_cmd = true;
    if (name == "SCTE35-OUT") d.scte35_out = true;
    if (name == "SCTE35-IN") d.scte35_in = true;
    bool ok = !at->quoted && IsHexSequence(at->value) && at->value.size() % 2 == 0;
    if (!ok) {
      Add(RuleId::kHlsScte35Malformed,
          "EXT-X-DATERANGE " + std::string(name) + " is not an unquoted hexadecimal-sequence.");
    } else if (!(at->value.size() >= 4 && (at->value[2] == 'F' || at->value[2] == 'f') &&
                 (at->value[3] == 'C' || at->value[3] == 'c'))) {
      Add(RuleId::kHlsScte35Malformed, "EXT-X-DATERANGE " + std::string(name) +
                                           " does not start with a splice_info_section "
                                           "(table_id 0xFC).");
    }
  }
  pl_.media.dateranges.push_back(std::move(d));
}

void Parser::OnServerControl(const Attributes& a) {
  const char* tag = "EXT-X-SERVER-CONTROL";
  auto& sc = pl_.media.server_control;
  sc.present = true;
  sc.line = line_no_;
  RuleId r = RuleId::kLlhlsServerControlInvalid;
  sc.can_block_reload = YesNo(a, tag, "CAN-BLOCK-RELOAD", r);
  sc.can_skip_dateranges = YesNo(a, tag, "CAN-SKIP-DATERANGES", r);
  sc.can_skip_until = Float(a, tag, "CAN-SKIP-UNTIL", r);
  sc.hold_back = Float(a, tag, "HOLD-BACK", r);
  sc.part_hold_back = Float(a, tag, "PART-HOLD-BACK", r);
  if (sc.can_skip_dateranges && !sc.can_skip_until)
    Add(r, "CAN-SKIP-DATERANGES=YES requires CAN-SKIP-UNTIL.");
  if (sc.can_skip_dateranges) NeedVersion(10, "CAN-SKIP-DATERANGES");
}

void Parser::OnStreamInf(const Attributes& a, bool iframe) {
  const char* tag = iframe ? "EXT-X-I-FRAME-STREAM-INF" : "EXT-X-STREAM-INF";
  ++master_tags_;
  if (!first_master_line_) first_master_line_ = line_no_;
  Variant v;
  v.iframe = iframe;
  v.line = line_no_;
  auto bw = Int(a, tag, "BANDWIDTH",
                iframe ? RuleId::kHlsIframeVariantInvalid : RuleId::kHlsVariantMissingBandwidth);
  if (bw) {
    v.bandwidth = *bw;
  } else if (!a.Has("BANDWIDTH")) {
    Add(iframe ? RuleId::kHlsIframeVariantInvalid : RuleId::kHlsVariantMissingBandwidth,
        std::string(tag) + " has no BANDWIDTH.");
  }
  v.average_bandwidth = Int(a, tag, "AVERAGE-BANDWIDTH");
  if (auto c = Quoted(a, tag, "CODECS")) v.codecs = SplitCodecs(*c);
  if (auto res = a.Find("RESOLUTION")) {
    v.resolution_present = true;
    size_t x = res->value.find('x');
    Resolution r;
    if (res->quoted || x == std::string_view::npos ||
        !ParseDecimalInt(res->value.substr(0, x), &r.width) ||
        !ParseDecimalInt(res->value.substr(x + 1), &r.height) || r.width == 0 || r.height == 0) {
      Add(RuleId::kHlsVariantMalformedResolution,
          std::string(tag) + " RESOLUTION=" + std::string(res->value) + " is not <width>x<height>.");
    } else {
      v.resolution = r;
    }
  }
  v.frame_rate = Float(a, tag, "FRAME-RATE");
  if (auto s = Quoted(a, tag, "AUDIO")) v.audio = *s;
  if (auto s = Quoted(a, tag, "VIDEO")) v.video = *s;
  if (auto s = Quoted(a, tag, "SUBTITLES")) v.subtitles = *s;
  if (auto cc = a.Find("CLOSED-CAPTIONS")) {
    if (!cc->quoted && cc->value != "NONE")
      Add(RuleId::kHlsAttributeValueMalformed,
          std::string(tag) + " CLOSED-CAPTIONS must be a quoted-string or NONE.");
    v.closed_captions = cc->quoted ? Substitute(cc->value) : std::string_view();
  }
  if (a.Has("PROGRAM-ID") && pl_.version_line && pl_.version >= 6)
    Add(RuleId::kHlsVersionRemovedFeature,
        "PROGRAM-ID was removed in protocol version 6; this playlist declares version " +
            std::to_string(pl_.version) + ".");
  if (iframe) {
    if (auto uri = Quoted(a, tag, "URI")) {
      v.uri = *uri;
      v.uri_line = line_no_;
    } else {
      Add(RuleId::kHlsIframeVariantInvalid, "EXT-X-I-FRAME-STREAM-INF has no URI attribute.");
    }
    for (std::string_view bad : {"AUDIO", "SUBTITLES", "CLOSED-CAPTIONS", "FRAME-RATE"})
      if (a.Has(bad))
        Add(RuleId::kHlsIframeVariantInvalid,
            "EXT-X-I-FRAME-STREAM-INF must not have " + std::string(bad) + ".");
    pl_.multivariant.variants.push_back(std::move(v));
    return;
  }
  if (pending_variant_)
    out_->Add(RuleId::kHlsVariantMissingUri, variant_.line,
              "EXT-X-STREAM-INF is not followed by a URI line.");
  pending_variant_ = true;
  variant_ = std::move(v);
}

void Parser::OnMedia(const Attributes& a) {
  const char* tag = "EXT-X-MEDIA";
  ++master_tags_;
  if (!first_master_line_) first_master_line_ = line_no_;
  Rendition r;
  r.line = line_no_;
  if (auto t = Enum(a, tag, "TYPE")) r.type = *t;
  if (auto s = Quoted(a, tag, "GROUP-ID")) r.group_id = *s;
  if (auto s = Quoted(a, tag, "NAME")) r.name = *s;
  if (auto s = Quoted(a, tag, "LANGUAGE")) r.language = *s;
  if (auto s = Quoted(a, tag, "URI")) r.uri = *s;
  if (auto s = Quoted(a, tag, "INSTREAM-ID")) r.instream_id = *s;
  if (auto s = Quoted(a, tag, "CHANNELS")) r.channels = *s;
  std::string missing;
  for (std::string_view req : {"TYPE", "GROUP-ID", "NAME"})
    if (!a.Has(req)) missing += (missing.empty() ? "" : ", ") + std::string(req);
  if (!missing.empty())
    Add(RuleId::kHlsRenditionMissingAttr, "EXT-X-MEDIA lacks " + missing + ".");
  if (!r.type.empty() && r.type != "AUDIO" && r.type != "VIDEO" && r.type != "SUBTITLES" &&
      r.type != "CLOSED-CAPTIONS")
    Add(RuleId::kHlsRenditionUnknownType, "EXT-X-MEDIA TYPE=" + std::string(r.type) + " is not a known type.");
  r.is_default = YesNo(a, tag, "DEFAULT", RuleId::kHlsAttributeValueMalformed);
  r.autoselect = YesNo(a, tag, "AUTOSELECT", RuleId::kHlsAttributeValueMalformed);
  r.forced = YesNo(a, tag, "FORCED", RuleId::kHlsAttributeValueMalformed);
  if (r.is_default && a.Has("AUTOSELECT") && !r.autoselect)
    Add(RuleId::kHlsRenditionDefaultAutoselect,
        "EXT-X-MEDIA \"" + std::string(r.name) + "\" has DEFAULT=YES but AUTOSELECT=NO.");
  if (a.Has("FORCED") && r.type != "SUBTITLES")
    Add(RuleId::kHlsRenditionForced, "EXT-X-MEDIA FORCED is only allowed with TYPE=SUBTITLES.");
  if (r.type == "SUBTITLES" && r.uri.empty())
    Add(RuleId::kHlsRenditionMissingUri, "EXT-X-MEDIA TYPE=SUBTITLES \"" + std::string(r.name) + "\" has no URI.");
  if (r.type == "CLOSED-CAPTIONS") {
    if (a.Has("URI"))
      Add(RuleId::kHlsRenditionClosedCaptions, "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS must not have URI.");
    std::string_view id = r.instream_id;
    uint64_t n = 0;
    bool ok = (StartsWith(id, "CC") && ParseDecimalInt(id.substr(2), &n) && n >= 1 && n <= 4) ||
              (StartsWith(id, "SERVICE") && ParseDecimalInt(id.substr(7), &n) && n >= 1 && n <= 63);
    if (!ok)
      Add(RuleId::kHlsRenditionClosedCaptions,
          "EXT-X-MEDIA TYPE=CLOSED-CAPTIONS needs INSTREAM-ID CC1-CC4 or SERVICE1-SERVICE63.");
    if (StartsWith(id, "SERVICE")) NeedVersion(7, "INSTREAM-ID SERVICE values");
  } else if (a.Has("INSTREAM-ID")) {
    Add(RuleId::kHlsRenditionClosedCaptions,
        "EXT-X-MEDIA INSTREAM-ID is only allowed with TYPE=CLOSED-CAPTIONS.");
  }
  if (!r.uri.empty() && !IsUriSafe(r.uri))
    Add(RuleId::kHlsRenditionMalformedUri, "EXT-X-MEDIA URI \"" + std::string(r.uri) + "\" is not a valid URI.");
  pl_.multivariant.renditions.push_back(std::move(r));
}

void Parser::OnDefine(const Attributes& a) {
  const char* tag = "EXT-X-DEFINE";
  NeedVersion(8, "variable substitution (EXT-X-DEFINE)");
  int kinds = a.Has("NAME") + a.Has("IMPORT") + a.Has("QUERYPARAM");
  if (kinds != 1) {
    Add(RuleId::kHlsDefineInvalid, "EXT-X-DEFINE needs exactly one of NAME, IMPORT or QUERYPARAM.");
    return;
  }
  auto valid_name = [](std::string_view n) {
    if (n.empty()) return false;
    for (char c : n)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
    return true;
  };
  if (a.Has("NAME")) {
    auto name = Quoted(a, tag, "NAME");
    auto value = Quoted(a, tag, "VALUE");
    if (!value) Add(RuleId::kHlsDefineInvalid, "EXT-X-DEFINE NAME needs a VALUE.");
    if (!valid_name(*name)) {
      Add(RuleId::kHlsDefineInvalid, "EXT-X-DEFINE NAME \"" + std::string(*name) + "\" is not [A-Za-z0-9-_]+.");
      return;
    }
    for (const auto& d : defines_)
      if (d.first == *name) Add(RuleId::kHlsDefineInvalid, "EXT-X-DEFINE repeats NAME \"" + std::string(*name) + "\".");
    defines_.emplace_back(*name, value.value_or(std::string_view()));
    return;
  }
  // IMPORT (Media Playlists only) and QUERYPARAM take their value from outside the playlist,
  // so references can no longer be verified.
  unresolved_imports_ = true;
  if (a.Has("QUERYPARAM")) NeedVersion(11, "EXT-X-DEFINE QUERYPARAM");
}

void Parser::HandleUri(std::string_view line) {
  // The usual case: the URI of a segment announced by EXTINF, with nothing to substitute (a safe
  // line has no '{'). HandleOtherUri does the same for it, with the rarer cases around.
  if (pending_extinf_ && !pending_variant_ && IsUriSafe(line)) {
    pending_extinf_ = false;
    AddSegment(line);
    return;
  }
  HandleOtherUri(line);
}

void Parser::HandleOtherUri(std::string_view line) {
  if (pending_variant_) {
    pending_variant_ = false;
    variant_.uri = Substitute(line);
    variant_.uri_line = line_no_;
    if (!IsUriSafe(variant_.uri))
      Add(RuleId::kHlsVariantMalformedUri,
          "Variant URI \"" + std::string(variant_.uri) + "\" is not a valid URI.");
    pl_.multivariant.variants.push_back(std::move(variant_));
    variant_ = Variant{};
    return;
  }
  if (!pending_extinf_) {
    Add(RuleId::kHlsSegmentUnexpectedUri,
        "URI line \"" + std::string(line) + "\" has no EXTINF or EXT-X-STREAM-INF before it.");
    next_range_.reset();
    return;
  }
  pending_extinf_ = false;
  // A safe line has no '{', hence no variable reference to substitute.
  if (IsUriSafe(line)) {
    AddSegment(line);
    return;
  }
  std::string_view uri = Substitute(line);
  if (!IsUriSafe(uri))
    Add(RuleId::kHlsSegmentMalformedUri, "Segment URI \"" + std::string(uri) + "\" is not a valid URI.");
  AddSegment(uri);
}

void Parser::StartSegments() {
  next_msn_ = pl_.media.media_sequence + (pl_.media.skip ? pl_.media.skip->skipped_segments : 0);
  // Every further segment takes at least two more lines (EXTINF and URI).
  // Capped: a huge input of blank lines must not reserve gigabytes.
  size_t bound = static_cast<size_t>(std::max(0, total_lines_ - line_no_)) / 2 + 1;
  pl_.media.segments.reserve(std::min(bound, size_t{1} << 16));
  saw_segment_ = true;
}

void Parser::ResolveRange(std::string_view uri) {
  if (!next_range_->offset) {
    if (last_range_end_ && last_range_uri_ == uri) {
      next_range_->offset = *last_range_end_;
    } else {
      out_->Add(RuleId::kHlsByterangeOrphan, pending_line_,
                "EXT-X-BYTERANGE has no offset and the previous segment is not a sub-range of \"" +
                    std::string(uri) + "\".");
    }
  }
  if (next_range_->offset) last_range_end_ = *next_range_->offset + next_range_->length;
  last_range_uri_ = uri;
}

void Parser::AddSegment(std::string_view uri) {
  auto& segments = pl_.media.segments;
  if (!saw_segment_) StartSegments();
  if (next_range_) ResolveRange(uri);
  else last_range_end_.reset();
  if (next_discontinuity_) ++disc_seq_;
  segments.emplace_back(SegmentFromState{this, uri});
  parts_.clear();
  next_discontinuity_ = false;
  next_pdt_.reset();
  next_range_.reset();
  next_gap_ = false;
}

Segment Parser::MakeSegment(std::string_view uri) {
  // Every member named: GCC clears a partly initialized aggregate with a slow `rep stos` first.
  return Segment{.duration = pending_duration_,
                 .title = pending_title_,
                 .uri = uri,
                 .line = pending_line_,
                 .uri_line = line_no_,
                 .sequence = next_msn_++,
                 .discontinuity_sequence = disc_seq_,
                 .discontinuity = next_discontinuity_,
                 .gap = next_gap_,
                 .range = next_range_,
                 .program_date_time = next_pdt_,
                 .bitrate_kbps = current_bitrate_,
                 .key = current_key_,
                 .map = current_map_,
                 .parts = std::move(parts_)};
}

void Parser::OnExtinfTag(std::string_view value) {
  ++media_tags_;
  if (!first_media_line_) first_media_line_ = line_no_;
  OnExtinf(value);
}

void Parser::HandleTag(std::string_view name, std::string_view value) {
  if (name == "EXTINF") {  // most lines of a Media Playlist; not a once-only tag
    OnExtinfTag(value);
    return;
  }
  for (std::string_view once : kOnceTags) {
    if (name != once) continue;
    if (std::find(once_seen_.begin(), once_seen_.end(), once) != once_seen_.end()) {
      Add(RuleId::kHlsTagDuplicate, "#" + std::string(name) + " appears more than once.");
      return;
    }
    once_seen_.push_back(once);
    break;
  }
  auto media_tag = [&] {
    ++media_tags_;
    if (!first_media_line_) first_media_line_ = line_no_;
  };
  Attributes& attrs = attrs_;
  auto attr = [&]() { ParseAttrs(name, value, &attrs); };
  auto& m = pl_.media;

  if (name == "EXT-X-BYTERANGE") {
    media_tag();
    NeedVersion(4, "EXT-X-BYTERANGE");
    ByteRange r;
    if (!ParseByteRange(value, &r)) {
      Add(RuleId::kHlsByterangeMalformed, "EXT-X-BYTERANGE:" + std::string(value) +
                                              " is not <n>[@<o>].");
    } else if (next_range_) {
      Add(RuleId::kHlsByterangeDuplicate, "A second EXT-X-BYTERANGE applies to the same segment.");
    } else {
      next_range_ = r;
    }
  } else if (name == "EXT-X-TARGETDURATION") {
    media_tag();
    uint64_t td;
    m.target_duration_line = line_no_;
    if (!ParseDecimalInt(value, &td)) {
      Add(RuleId::kHlsMalformedTargetDuration,
          "EXT-X-TARGETDURATION:" + std::string(value) + " is not a decimal-integer.");
    } else {
      m.target_duration = td;
    }
  } else if (name == "EXT-X-MEDIA-SEQUENCE") {
    media_tag();
    uint64_t v;
    if (!ParseDecimalInt(value, &v)) {
      Add(RuleId::kHlsMalformedMediaSequence,
          "EXT-X-MEDIA-SEQUENCE:" + std::string(value) + " is not a decimal-integer.");
    } else {
      m.media_sequence = v;
      media_sequence_set_ = true;
    }
    if (saw_segment_ || pending_extinf_)
      Add(RuleId::kHlsMediaSequenceLate, "EXT-X-MEDIA-SEQUENCE appears after the first segment.");
  } else if (name == "EXT-X-DISCONTINUITY-SEQUENCE") {
    media_tag();
    uint64_t v;
    if (!ParseDecimalInt(value, &v))
      Add(RuleId::kHlsDiscontinuitySequenceInvalid,
          "EXT-X-DISCONTINUITY-SEQUENCE:" + std::string(value) + " is not a decimal-integer.");
    else
      m.discontinuity_sequence = disc_seq_ = v;
    if (saw_segment_ || pending_extinf_ || saw_discontinuity_)
      Add(RuleId::kHlsDiscontinuitySequenceInvalid,
          "EXT-X-DISCONTINUITY-SEQUENCE must come before the first segment and any "
          "EXT-X-DISCONTINUITY.");
  } else if (name == "EXT-X-ENDLIST") {
    media_tag();
    m.endlist = true;
  } else if (name == "EXT-X-PLAYLIST-TYPE") {
    media_tag();
    if (value == "VOD") m.playlist_type = PlaylistType::kVod;
    else if (value == "EVENT") m.playlist_type = PlaylistType::kEvent;
    else Add(RuleId::kHlsPlaylistTypeInvalid, "EXT-X-PLAYLIST-TYPE:" + std::string(value) +
                                                  " is not EVENT or VOD.");
  } else if (name == "EXT-X-I-FRAMES-ONLY") {
    media_tag();
    m.iframes_only = true;
    NeedVersion(4, "EXT-X-I-FRAMES-ONLY");
  } else if (name == "EXT-X-DISCONTINUITY") {
    media_tag();
    next_discontinuity_ = true;
    saw_discontinuity_ = true;
  } else if (name == "EXT-X-PROGRAM-DATE-TIME") {
    media_tag();
    auto t = ParseIso8601(value);
    bool has_zone = !value.empty() && (value.back() == 'Z' || value.back() == 'z' ||
                                       value.find('+', 10) != std::string_view::npos ||
                                       value.find('-', 10) != std::string_view::npos);
    if (!t || !has_zone)
      Add(RuleId::kHlsProgramDateTimeMalformed,
          "EXT-X-PROGRAM-DATE-TIME:" + std::string(value) + " is not an ISO 8601 date-time with a zone.");
    if (t) next_pdt_ = t;
  } else if (name == "EXT-X-GAP") {
    media_tag();
    next_gap_ = true;
  } else if (name == "EXT-X-BITRATE") {
    media_tag();
    uint64_t v;
    if (!ParseDecimalInt(value, &v))
      Add(RuleId::kHlsBitrateMalformed, "EXT-X-BITRATE:" + std::string(value) + " is not a decimal-integer.");
    else
      current_bitrate_ = v;
  } else if (name == "EXT-X-KEY") {
    media_tag();
    attr();
    OnKey(attrs, false);
  } else if (name == "EXT-X-MAP") {
    media_tag();
    attr();
    OnMap(attrs);
  } else if (name == "EXT-X-PART") {
    media_tag();
    attr();
    OnPart(attrs);
  } else if (name == "EXT-X-PART-INF") {
    media_tag();
    attr();
    m.part_inf_line = line_no_;
    auto pt = Float(attrs, "EXT-X-PART-INF", "PART-TARGET", RuleId::kLlhlsPartInfInvalid);
    if (!pt || *pt <= 0) {
      if (!attrs.Has("PART-TARGET") || pt)
        Add(RuleId::kLlhlsPartInfInvalid, "EXT-X-PART-INF needs a positive PART-TARGET.");
    } else {
      m.part_target = pt;
    }
  } else if (name == "EXT-X-SERVER-CONTROL") {
    media_tag();
    attr();
    OnServerControl(attrs);
  } else if (name == "EXT-X-SKIP") {
    media_tag();
    attr();
    NeedVersion(9, "EXT-X-SKIP");
    Skip sk;
    sk.line = line_no_;
    auto n = Int(attrs, "EXT-X-SKIP", "SKIPPED-SEGMENTS", RuleId::kLlhlsSkipInvalid);
    if (!n) {
      if (!attrs.Has("SKIPPED-SEGMENTS"))
        Add(RuleId::kLlhlsSkipInvalid, "EXT-X-SKIP has no SKIPPED-SEGMENTS.");
    } else {
      sk.skipped_segments = *n;
    }
    if (attrs.Has("RECENTLY-REMOVED-DATERANGES")) {
      sk.has_recently_removed = true;
      (void)Quoted(attrs, "EXT-X-SKIP", "RECENTLY-REMOVED-DATERANGES");
      NeedVersion(10, "EXT-X-SKIP RECENTLY-REMOVED-DATERANGES");
    }
    if (saw_segment_ || pending_extinf_)
      Add(RuleId::kLlhlsSkipInvalid, "EXT-X-SKIP must come before the first Media Segment.");
    m.skip = sk;
  } else if (name == "EXT-X-PRELOAD-HINT") {
    media_tag();
    attr();
    PreloadHint h;
    h.line = line_no_;
    auto type = Enum(attrs, "EXT-X-PRELOAD-HINT", "TYPE", RuleId::kLlhlsPreloadHintInvalid);
    auto uri = Quoted(attrs, "EXT-X-PRELOAD-HINT", "URI");
    if (type) h.type = *type;
    if (uri) h.uri = *uri;
    if (!type || !uri) {
      Add(RuleId::kLlhlsPreloadHintInvalid, "EXT-X-PRELOAD-HINT needs TYPE and URI.");
    } else if (h.type != "PART" && h.type != "MAP") {
      Add(RuleId::kLlhlsPreloadHintInvalid, "EXT-X-PRELOAD-HINT TYPE=" + std::string(h.type) + " is not PART or MAP.");
    }
    for (const auto& prev : m.preload_hints)
      if (!h.type.empty() && prev.type == h.type)
        Add(RuleId::kLlhlsPreloadHintInvalid,
            "More than one EXT-X-PRELOAD-HINT with TYPE=" + std::string(h.type) + ".");
    (void)Int(attrs, "EXT-X-PRELOAD-HINT", "BYTERANGE-START", RuleId::kLlhlsPreloadHintInvalid);
    (void)Int(attrs, "EXT-X-PRELOAD-HINT", "BYTERANGE-LENGTH", RuleId::kLlhlsPreloadHintInvalid);
    m.preload_hints.push_back(std::move(h));
  } else if (name == "EXT-X-RENDITION-REPORT") {
    media_tag();
    attr();
    RenditionReport r;
    r.line = line_no_;
    if (auto uri = Quoted(attrs, "EXT-X-RENDITION-REPORT", "URI")) r.uri = *uri;
    else Add(RuleId::kLlhlsRenditionReportInvalid, "EXT-X-RENDITION-REPORT has no URI.");
    r.last_msn = Int(attrs, "EXT-X-RENDITION-REPORT", "LAST-MSN", RuleId::kLlhlsRenditionReportInvalid);
    r.last_part = Int(attrs, "EXT-X-RENDITION-REPORT", "LAST-PART", RuleId::kLlhlsRenditionReportInvalid);
    m.rendition_reports.push_back(std::move(r));
  } else if (name == "EXT-X-DATERANGE") {
    media_tag();
    attr();
    OnDateRange(attrs);
  } else if (name == "EXT-X-STREAM-INF" || name == "EXT-X-I-FRAME-STREAM-INF") {
    attr();
    OnStreamInf(attrs, name == "EXT-X-I-FRAME-STREAM-INF");
  } else if (name == "EXT-X-MEDIA") {
    attr();
    OnMedia(attrs);
  } else if (name == "EXT-X-SESSION-DATA") {
    ++master_tags_;
    if (!first_master_line_) first_master_line_ = line_no_;
    attr();
    auto id = Quoted(attrs, "EXT-X-SESSION-DATA", "DATA-ID");
    if (!id || attrs.Has("VALUE") == attrs.Has("URI"))
      Add(RuleId::kHlsSessionDataInvalid,
          "EXT-X-SESSION-DATA needs DATA-ID and exactly one of VALUE or URI.");
  } else if (name == "EXT-X-SESSION-KEY") {
    ++master_tags_;
    if (!first_master_line_) first_master_line_ = line_no_;
    attr();
    OnKey(attrs, true);
  } else if (name == "EXT-X-CONTENT-STEERING") {
    ++master_tags_;
    if (!first_master_line_) first_master_line_ = line_no_;
    attr();
    if (!Quoted(attrs, "EXT-X-CONTENT-STEERING", "SERVER-URI"))
      Add(RuleId::kHlsContentSteeringInvalid, "EXT-X-CONTENT-STEERING has no SERVER-URI.");
  } else if (name == "EXT-X-VERSION") {
    uint64_t v;
    pl_.version_line = line_no_;
    if (!ParseDecimalInt(value, &v) || v == 0) {
      Add(RuleId::kHlsVersionMalformed, "EXT-X-VERSION:" + std::string(value) + " is not a positive decimal-integer.");
    } else {
      pl_.version = v;
    }
  } else if (name == "EXT-X-INDEPENDENT-SEGMENTS") {
    pl_.independent_segments = true;
  } else if (name == "EXT-X-START") {
    attr();
    auto off = Float(attrs, "EXT-X-START", "TIME-OFFSET", RuleId::kHlsStartInvalid, true);
    if (!attrs.Has("TIME-OFFSET")) Add(RuleId::kHlsStartInvalid, "EXT-X-START has no TIME-OFFSET.");
    (void)off;
    YesNo(attrs, "EXT-X-START", "PRECISE", RuleId::kHlsStartInvalid);
  } else if (name == "EXT-X-DEFINE") {
    attr();
    OnDefine(attrs);
  } else if (name == "EXT-X-ALLOW-CACHE") {
    if (pl_.version_line && pl_.version >= 7)
      Add(RuleId::kHlsVersionRemovedFeature, "EXT-X-ALLOW-CACHE was removed in protocol version 7.");
  } else if (name == "EXTM3U") {
    if (saw_extm3u_) Add(RuleId::kHlsTagDuplicate, "#EXTM3U appears again.");
    saw_extm3u_ = true;
  } else if (std::find(std::begin(kPassiveTags), std::end(kPassiveTags), name) ==
             std::end(kPassiveTags)) {
    Add(RuleId::kHlsUnknownTag, "Unknown tag #" + std::string(name) + " is ignored.");
  }
}

Playlist Parser::Run() {
  std::string_view t = text_;
  if (StartsWith(t, "\xEF\xBB\xBF")) {
    out_->Add(RuleId::kHlsBomPresent, 1, "The playlist starts with a UTF-8 byte order mark.");
    t.remove_prefix(3);
  }
  ScanEncoding();
  const char* const base = text_.data();
  size_t pos = static_cast<size_t>(t.data() - base);  // past the BOM
  bool first_content = true;
  for (;;) {
    const size_t nl = NextNewline(pos);
    const bool last = nl == text_.size();
    std::string_view line(base + pos, nl - pos);
    pos = nl + 1;
    ++line_no_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    // Blank (empty or only spaces and tabs). Most lines start with a visible character.
    if (line.empty() || ((line[0] == ' ' || line[0] == '\t') && Trim(line).empty())) {
      if (last) break;
      continue;
    }
    if (first_content) {
      first_content = false;
      if (!StartsWith(line, "#EXTM3U")) {
        Add(RuleId::kHlsExtm3uNotFirst, "The first line is not #EXTM3U.");
      } else if (line_no_ != 1) {
        Add(RuleId::kHlsExtm3uNotFirst, "#EXTM3U is not on the first line (blank lines before it).");
      }
    }
    if (line[0] == '#') {
      if (line.size() >= 8 && std::memcmp(line.data(), "#EXTINF:", 8) == 0) {
        OnExtinfTag(std::string_view(line.data() + 8, line.size() - 8));  // the same as HandleTag("EXTINF", ...), minus the dispatch
      } else if (StartsWith(line, "#EXT")) {
        size_t colon = line.find(':');
        std::string_view name = line.substr(1, colon == std::string_view::npos ? line.npos : colon - 1);
        std::string_view value =
            colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
        HandleTag(Trim(name), value);
      }
      // Other lines starting with '#' are comments (§4.1).
    } else {
      HandleUri(IsTrimmed(line) ? line : Trim(line));
    }
    if (last) break;
  }
  FinishPendingSegment(true);
  if (pending_variant_)
    out_->Add(RuleId::kHlsVariantMissingUri, variant_.line,
              "EXT-X-STREAM-INF at the end of the playlist has no URI line.");
  pl_.media.trailing_parts = std::move(parts_);

  if (master_tags_ > 0 && media_tags_ > 0) {
    pl_.kind = PlaylistKind::kMultivariant;
    out_->Add(RuleId::kHlsPlaylistAmbiguous, std::max(first_master_line_, first_media_line_),
              "Multivariant tags (first on line " + std::to_string(first_master_line_) +
                  ") and Media Playlist tags (first on line " + std::to_string(first_media_line_) +
                  ") in one playlist.");
  } else if (master_tags_ > 0) {
    pl_.kind = PlaylistKind::kMultivariant;
  } else if (media_tags_ > 0) {
    pl_.kind = PlaylistKind::kMedia;
  } else {
    out_->Add(RuleId::kHlsPlaylistTypeUnknown, 1,
              "The playlist has no Multivariant or Media Playlist tags.");
  }
  if (pl_.kind == PlaylistKind::kMedia && !pl_.media.maps.empty())
  {
    line_no_ = pl_.media.maps.front().line;
    if (pl_.media.iframes_only) NeedVersion(5, "EXT-X-MAP in an I-frame playlist");
    else NeedVersion(6, "EXT-X-MAP");
  }
  for (const auto& n : needs_) {
    if (n.version > pl_.version)
      out_->Add(RuleId::kHlsVersionTooLow, n.line,
                n.feature + " requires EXT-X-VERSION " + std::to_string(n.version) +
                    " or higher; the playlist declares " + std::to_string(pl_.version) +
                    (pl_.version_line ? "." : " (no EXT-X-VERSION)."));
  }
  pl_.text = std::move(store_);
  return std::move(pl_);
}

}  // namespace

double MediaPlaylist::TotalDuration() const {
  double t = 0;
  for (const auto& s : segments) t += s.duration;
  return t;
}

int64_t MediaPlaylist::LastMsn() const {
  if (segments.empty()) return static_cast<int64_t>(media_sequence) - 1;
  return static_cast<int64_t>(segments.back().sequence);
}

size_t MultivariantPlaylist::StreamCount() const {
  return static_cast<size_t>(
      std::count_if(variants.begin(), variants.end(), [](const Variant& v) { return !v.iframe; }));
}

bool LooksLikeHls(std::string_view text) {
  if (StartsWith(text, "\xEF\xBB\xBF")) text.remove_prefix(3);
  size_t i = 0;
  while (i < text.size() && (text[i] == '\n' || text[i] == '\r' || text[i] == ' ' || text[i] == '\t'))
    ++i;
  return StartsWith(text.substr(i), "#EXTM3U");
}

std::vector<std::string_view> SplitCodecs(std::string_view codecs) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos <= codecs.size()) {
    size_t c = codecs.find(',', pos);
    if (c == std::string_view::npos) c = codecs.size();
    std::string_view one = Trim(codecs.substr(pos, c - pos));
    if (!one.empty()) out.emplace_back(one);
    pos = c + 1;
  }
  return out;
}

Playlist Parse(std::string_view text, Findings* out) { return Parser(text, out).Run(); }

Playlist Analyze(std::string_view text, Findings* out) {
  Playlist p = Parse(text, out);
  Check(p, out);
  return p;
}

}  // namespace avtrace::analyzer::hls
