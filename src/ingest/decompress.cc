#include "ingest/decompress.h"

#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <climits>
#include <memory>

namespace avtrace::ingest {
namespace {

constexpr size_t kInitialOutput = 64 * 1024;

Status TooLarge(size_t max_output) {
  return PayloadTooLarge("decompressed body exceeds the limit of " + std::to_string(max_output) +
                         " bytes");
}

// Output buffer that grows geometrically but never past max_output + 1 bytes: the one extra byte
// is how an overflow is detected without allocating more than the cap.
class CappedOutput {
 public:
  CappedOutput(size_t input_size, size_t max_output) : max_(max_output) {
    size_t initial = std::max(kInitialOutput, input_size * 4);
    out_.resize(std::min(initial, Limit()));
  }
  // Makes room after `produced_`; false when the cap is reached.
  bool Grow() {
    if (produced_ < out_.size()) return true;
    if (out_.size() >= Limit()) return false;
    out_.resize(std::min(Limit(), out_.size() * 2));
    return true;
  }
  char* next() { return out_.data() + produced_; }
  size_t room() const { return out_.size() - produced_; }
  void Produced(size_t n) { produced_ += n; }
  bool over() const { return produced_ > max_; }
  std::string Take() && {
    out_.resize(produced_);
    out_.shrink_to_fit();
    return std::move(out_);
  }

 private:
  size_t Limit() const { return max_ == SIZE_MAX ? max_ : max_ + 1; }
  size_t max_;
  std::string out_;
  size_t produced_ = 0;
};

bool LooksLikeZlib(std::string_view in) {
  if (in.size() < 2) return false;
  auto cmf = static_cast<uint8_t>(in[0]), flg = static_cast<uint8_t>(in[1]);
  return (cmf & 0x0F) == 8 && (cmf >> 4) <= 7 && ((cmf << 8) | flg) % 31 == 0;
}

struct ZStreamCloser {
  void operator()(z_stream* z) const {
    inflateEnd(z);
    delete z;
  }
};

// `window_bits` selects the container: 16+15 gzip, 15 zlib, -15 raw deflate.
Result<std::string> Inflate(std::string_view input, int window_bits, std::string_view name,
                            size_t max_output) {
  std::unique_ptr<z_stream, ZStreamCloser> zs(new z_stream{});
  if (inflateInit2(zs.get(), window_bits) != Z_OK) {
    delete zs.release();
    return Internal(std::string(name) + ": cannot initialise the decoder");
  }
  const bool gzip = window_bits > 15;
  CappedOutput out(input.size(), max_output);
  const auto* next_in = reinterpret_cast<const Bytef*>(input.data());
  size_t left_in = input.size();
  for (;;) {
    if (!out.Grow()) return TooLarge(max_output);
    // zlib counts in uInt; feed and drain in chunks that fit.
    zs->next_in = const_cast<Bytef*>(next_in);
    zs->avail_in = static_cast<uInt>(std::min<size_t>(left_in, UINT_MAX));
    zs->next_out = reinterpret_cast<Bytef*>(out.next());
    zs->avail_out = static_cast<uInt>(std::min<size_t>(out.room(), UINT_MAX));
    const uInt avail_in_before = zs->avail_in, avail_out_before = zs->avail_out;
    int ret = inflate(zs.get(), Z_NO_FLUSH);
    size_t consumed = avail_in_before - zs->avail_in;
    next_in += consumed;
    left_in -= consumed;
    out.Produced(avail_out_before - zs->avail_out);
    if (out.over()) return TooLarge(max_output);
    switch (ret) {
      case Z_STREAM_END:
        if (left_in == 0) return std::move(out).Take();
        // gzip allows concatenated members (RFC 1952 §2.2); anything else after the end is junk.
        if (gzip && left_in >= 2 && next_in[0] == 0x1f && next_in[1] == 0x8b) {
          inflateReset(zs.get());
          continue;
        }
        return InvalidArgument(std::string(name) + ": " + std::to_string(left_in) +
                               " trailing bytes after the compressed stream");
      case Z_OK:
        if (left_in == 0 && zs->avail_out > 0) {
          return InvalidArgument(std::string(name) + ": unexpected end of data");
        }
        continue;
      case Z_BUF_ERROR:
        // No progress possible: either the output is full (grow and retry) or input ran out.
        if (zs->avail_out == 0) continue;
        return InvalidArgument(std::string(name) + ": unexpected end of data");
      case Z_NEED_DICT:
        return InvalidArgument(std::string(name) + ": stream needs a preset dictionary");
      case Z_DATA_ERROR:
        return InvalidArgument(std::string(name) +
                               ": corrupt data: " + (zs->msg ? zs->msg : "invalid stream"));
      case Z_MEM_ERROR:
        return ResourceExhausted(std::string(name) + ": out of memory");
      default:
        return Internal(std::string(name) + ": decoder error " + std::to_string(ret));
    }
  }
}

struct ZstdCloser {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

Result<std::string> Unzstd(std::string_view input, size_t max_output) {
  std::unique_ptr<ZSTD_DCtx, ZstdCloser> dctx(ZSTD_createDCtx());
  if (!dctx) return Internal("zstd: cannot create the decoder");
  // The window is the decoder's memory; a window larger than the output cap can never be needed,
  // so bound it by the cap (but accept the 8 MiB every encoder may assume).
  int window_log = 23;
  while (window_log < 27 && (size_t{1} << window_log) < max_output) ++window_log;
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, window_log);

  CappedOutput out(input.size(), max_output);
  ZSTD_inBuffer in{input.data(), input.size(), 0};
  for (;;) {
    if (!out.Grow()) return TooLarge(max_output);
    ZSTD_outBuffer ob{out.next(), out.room(), 0};
    size_t ret = ZSTD_decompressStream(dctx.get(), &ob, &in);
    out.Produced(ob.pos);
    if (ZSTD_isError(ret)) {
      if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
        return PayloadTooLarge("zstd: the frame's window exceeds the body limit");
      }
      return InvalidArgument(std::string("zstd: ") + ZSTD_getErrorName(ret));
    }
    if (out.over()) return TooLarge(max_output);
    if (ret == 0) {  // a frame ended; more frames may follow
      if (in.pos == in.size) return std::move(out).Take();
      continue;
    }
    // The decoder wants more input but has none, and it did not stop for lack of output room.
    if (in.pos == in.size && ob.pos < ob.size) break;
  }
  return InvalidArgument("zstd: unexpected end of data");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string_view EncodingName(Encoding e) {
  switch (e) {
    case Encoding::kIdentity:
      return "identity";
    case Encoding::kGzip:
      return "gzip";
    case Encoding::kDeflate:
      return "deflate";
    case Encoding::kZstd:
      return "zstd";
  }
  return "unknown";
}

Result<std::vector<Encoding>> ParseContentEncoding(std::string_view header) {
  std::vector<Encoding> out;
  while (!header.empty()) {
    size_t comma = header.find(',');
    std::string token = Lower(Trim(header.substr(0, comma)));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (token.empty() || token == "identity" || token == "none") continue;
    if (token == "gzip" || token == "x-gzip") {
      out.push_back(Encoding::kGzip);
    } else if (token == "deflate") {
      out.push_back(Encoding::kDeflate);
    } else if (token == "zstd") {
      out.push_back(Encoding::kZstd);
    } else {
      if (token.size() > 64) token = token.substr(0, 64) + "...";
      return Status(
          StatusCode::kUnsupportedMediaType,
          "unsupported Content-Encoding '" + token + "'; supported: gzip, deflate, zstd, identity");
    }
  }
  return out;
}

Result<std::string> Decompress(Encoding encoding, std::string_view input, size_t max_output) {
  // An empty body is empty whatever it claims to be encoded with.
  if (input.empty()) return std::string();
  switch (encoding) {
    case Encoding::kIdentity:
      if (input.size() > max_output) return TooLarge(max_output);
      return std::string(input);
    case Encoding::kGzip:
      return Inflate(input, 16 + MAX_WBITS, "gzip", max_output);
    case Encoding::kDeflate:
      // RFC 9110 "deflate" is the zlib format, but some clients send raw deflate; tell them
      // apart by the zlib header checksum.
      return Inflate(input, LooksLikeZlib(input) ? MAX_WBITS : -MAX_WBITS, "deflate", max_output);
    case Encoding::kZstd:
      return Unzstd(input, max_output);
  }
  return Internal("unknown encoding");
}

Result<std::string> DecodeBody(const std::vector<Encoding>& encodings, std::string body,
                               size_t max_output) {
  if (encodings.empty()) {
    if (body.size() > max_output) return TooLarge(max_output);
    return body;
  }
  for (auto it = encodings.rbegin(); it != encodings.rend(); ++it) {
    ASSIGN_OR_RETURN(body, Decompress(*it, body, max_output));
  }
  return body;
}

}  // namespace avtrace::ingest
