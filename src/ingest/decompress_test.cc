#include "ingest/decompress.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <zlib.h>
#include <zstd.h>

#include <random>
#include <string>

namespace avtrace::ingest {
namespace {

std::string Deflate(std::string_view in, int window_bits, int level = 6) {
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, level, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&zs, in.size()) + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&zs, Z_FINISH), Z_STREAM_END);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}
std::string Gzip(std::string_view in) { return Deflate(in, 16 + MAX_WBITS); }
std::string Zlib(std::string_view in) { return Deflate(in, MAX_WBITS); }
std::string RawDeflate(std::string_view in) { return Deflate(in, -MAX_WBITS); }
std::string Zstd(std::string_view in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

std::string SomePayload(size_t n) {
  std::mt19937 rng(42);
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng() % 8));
  return s;
}

// A gzip stream of `mib` MiB of zeros, built by streaming raw deflate one MiB at a time with a
// full flush after each MiB. After a full flush the compressor starts from a clean state, so
// every further MiB of zeros compresses to the same bytes: the stream is assembled by repeating
// that block, and the 1 GiB of plain text never exists. Header and trailer (CRC-32 and length of
// the whole plain text) are written by hand per RFC 1952.
std::string GzipZerosBomb(uint64_t mib) {
  const std::string zeros(1 << 20, '\0');
  z_stream zs{};
  EXPECT_EQ(deflateInit2(&zs, 9, Z_DEFLATED, -MAX_WBITS, 9, Z_DEFAULT_STRATEGY), Z_OK);
  auto step = [&](std::string_view in, int flush) {
    std::string out(1 << 20, '\0');
    zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = reinterpret_cast<Bytef*>(out.data());
    zs.avail_out = static_cast<uInt>(out.size());
    deflate(&zs, flush);
    EXPECT_EQ(zs.avail_in, 0u);
    out.resize(out.size() - zs.avail_out);
    return out;
  };
  std::string first = step(zeros, Z_FULL_FLUSH);
  std::string block = step(zeros, Z_FULL_FLUSH);
  EXPECT_EQ(step(zeros, Z_FULL_FLUSH), block);  // the repetition argument holds
  std::string tail = step({}, Z_FINISH);
  deflateEnd(&zs);

  std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff", 10);
  out += first;
  for (uint64_t i = 1; i < mib; ++i) out += block;
  out += tail;
  uLong crc_mib = crc32(0, reinterpret_cast<const Bytef*>(zeros.data()), zeros.size());
  uLong crc = crc_mib;
  for (uint64_t i = 1; i < mib; ++i) crc = crc32_combine(crc, crc_mib, 1 << 20);
  uint32_t isize = static_cast<uint32_t>((mib << 20) & 0xffffffffu);
  for (uint32_t v : {static_cast<uint32_t>(crc), isize}) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  return out;
}

// zstd of `mib` MiB of zeros, compressed by streaming one MiB at a time.
std::string ZstdZerosBomb(uint64_t mib) {
  const std::string zeros(1 << 20, '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  std::string out, buf(ZSTD_CStreamOutSize(), '\0');
  for (uint64_t i = 0; i < mib; ++i) {
    ZSTD_inBuffer in{zeros.data(), zeros.size(), 0};
    ZSTD_EndDirective mode = i + 1 == mib ? ZSTD_e_end : ZSTD_e_continue;
    size_t left;
    do {
      ZSTD_outBuffer ob{buf.data(), buf.size(), 0};
      left = ZSTD_compressStream2(cctx, &ob, &in, mode);
      out.append(buf.data(), ob.pos);
    } while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

TEST(ParseContentEncodingTest, KnownCodings) {
  auto r = ParseContentEncoding("");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseContentEncoding(" GZIP ");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0], Encoding::kGzip);
  r = ParseContentEncoding("x-gzip, identity,zstd");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0], Encoding::kGzip);
  EXPECT_EQ((*r)[1], Encoding::kZstd);
  r = ParseContentEncoding("identity");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseContentEncoding("deflate");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0], Encoding::kDeflate);
}

TEST(ParseContentEncodingTest, UnknownCodingIs415WithName) {
  auto r = ParseContentEncoding("gzip, br");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnsupportedMediaType);
  EXPECT_NE(r.status().message().find("'br'"), std::string::npos) << r.status().message();
  EXPECT_EQ(ToHttpStatus(r.status().code()), 415);
}

TEST(DecompressTest, RoundTripsEveryCoding) {
  const std::string plain = SomePayload(300'000);
  struct Case {
    Encoding encoding;
    std::string compressed;
  };
  for (const Case& c : {Case{Encoding::kGzip, Gzip(plain)}, Case{Encoding::kDeflate, Zlib(plain)},
                        Case{Encoding::kDeflate, RawDeflate(plain)},
                        Case{Encoding::kZstd, Zstd(plain)}, Case{Encoding::kIdentity, plain}}) {
    auto r = Decompress(c.encoding, c.compressed, 64 << 20);
    ASSERT_TRUE(r.ok()) << EncodingName(c.encoding) << ": " << r.status().ToString();
    EXPECT_EQ(*r, plain) << EncodingName(c.encoding);
  }
}

TEST(DecompressTest, EmptyInputIsEmptyOutput) {
  for (Encoding e : {Encoding::kIdentity, Encoding::kGzip, Encoding::kDeflate, Encoding::kZstd}) {
    auto r = Decompress(e, "", 10);
    ASSERT_TRUE(r.ok()) << EncodingName(e);
    EXPECT_TRUE(r->empty());
  }
}

TEST(DecompressTest, ExactlyAtTheCapIsAccepted) {
  const std::string plain = SomePayload(100'000);
  for (Encoding e : {Encoding::kGzip, Encoding::kZstd, Encoding::kIdentity}) {
    std::string in = e == Encoding::kGzip   ? Gzip(plain)
                     : e == Encoding::kZstd ? Zstd(plain)
                                            : plain;
    auto ok = Decompress(e, in, plain.size());
    ASSERT_TRUE(ok.ok()) << EncodingName(e) << ": " << ok.status().ToString();
    EXPECT_EQ(ok->size(), plain.size());
    auto over = Decompress(e, in, plain.size() - 1);
    ASSERT_FALSE(over.ok()) << EncodingName(e);
    EXPECT_EQ(over.status().code(), StatusCode::kPayloadTooLarge);
    EXPECT_EQ(ToHttpStatus(over.status().code()), 413);
  }
}

TEST(DecompressTest, ConcatenatedGzipMembers) {
  auto r = Decompress(Encoding::kGzip, Gzip("hello ") + Gzip("world"), 1024);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello world");
}

TEST(DecompressTest, ConcatenatedZstdFrames) {
  auto r = Decompress(Encoding::kZstd, Zstd("hello ") + Zstd("world"), 1024);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "hello world");
}

TEST(DecompressTest, TruncatedInputIsInvalidArgument) {
  const std::string plain = SomePayload(50'000);
  std::string gz = Gzip(plain), zs = Zstd(plain);
  for (auto [e, in] : {std::pair{Encoding::kGzip, gz.substr(0, gz.size() / 2)},
                       std::pair{Encoding::kGzip, gz.substr(0, gz.size() - 4)},
                       std::pair{Encoding::kZstd, zs.substr(0, zs.size() / 2)},
                       std::pair{Encoding::kDeflate, Zlib(plain).substr(0, 100)}}) {
    auto r = Decompress(e, in, 1 << 20);
    ASSERT_FALSE(r.ok()) << EncodingName(e);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
    EXPECT_NE(r.status().message().find(EncodingName(e)), std::string::npos);
  }
}

TEST(DecompressTest, GarbageIsInvalidArgument) {
  const std::string garbage = "this is not compressed at all, not even a little";
  for (Encoding e : {Encoding::kGzip, Encoding::kZstd}) {
    auto r = Decompress(e, garbage, 1 << 20);
    ASSERT_FALSE(r.ok()) << EncodingName(e);
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
  }
  auto r = Decompress(Encoding::kGzip, Gzip("ok") + "junk", 1 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("trailing"), std::string::npos) << r.status().message();
}

TEST(DecompressTest, RandomBytesNeverCrash) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string in(rng() % 200, '\0');
    for (char& c : in) c = static_cast<char>(rng());
    if (i % 3 == 0 && in.size() > 2) {
      in[0] = '\x1f';
      in[1] = '\x8b';
    }
    for (Encoding e : {Encoding::kGzip, Encoding::kDeflate, Encoding::kZstd}) {
      auto r = Decompress(e, in, 4096);
      if (r.ok()) {
        EXPECT_LE(r->size(), 4096u);
      }
    }
  }
}

TEST(DecodeBodyTest, UndoesCodingsInReverseOrder) {
  const std::string plain = SomePayload(10'000);
  std::string twice = Zstd(Gzip(plain));  // gzip applied first, then zstd
  auto r = DecodeBody({Encoding::kGzip, Encoding::kZstd}, twice, 1 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, plain);
  auto plain_too_big = DecodeBody({}, plain, 100);
  ASSERT_FALSE(plain_too_big.ok());
  EXPECT_EQ(plain_too_big.status().code(), StatusCode::kPayloadTooLarge);
}

TEST(DecompressBombTest, SmallBombIsAValidGzipStream) {
  // The construction used for the 1 GiB bomb is checked on a size that may be decoded fully.
  std::string bomb = GzipZerosBomb(4);
  auto r = Decompress(Encoding::kGzip, bomb, 4 << 20);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u << 20);
  EXPECT_EQ(r->find_first_not_of('\0'), std::string::npos);
}

// Peak RSS of this process. Under AddressSanitizer the shadow memory and quarantine inflate
// it by hundreds of MiB regardless of what the code does, so the bound is not checked there.
long MaxRssMiB() {
#if defined(__SANITIZE_ADDRESS__)
  return 0;
#else
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
#endif
}

TEST(DecompressBombTest, OneGibGzipOfZerosStopsAtTheCap) {
  std::string bomb = GzipZerosBomb(1024);  // 1 GiB of zeros
  ASSERT_LT(bomb.size(), 2u << 20);        // ~1 MB on the wire
  auto r = Decompress(Encoding::kGzip, bomb, 64 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(r.status().message().find("67108864"), std::string::npos) << r.status().message();
  // Had the bomb been inflated, the process would have touched 1 GiB.
  EXPECT_LT(MaxRssMiB(), 512);
}

TEST(DecompressBombTest, OneGibZstdOfZerosStopsAtTheCap) {
  std::string bomb = ZstdZerosBomb(1024);
  ASSERT_LT(bomb.size(), 1u << 20);
  auto r = Decompress(Encoding::kZstd, bomb, 64 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_LT(MaxRssMiB(), 512);
}

TEST(DecompressBombTest, DeflateBombStopsAtTheCap) {
  std::string gz = GzipZerosBomb(256);
  // Strip the gzip header and trailer: what remains is a raw deflate stream.
  std::string raw = gz.substr(10, gz.size() - 18);
  auto r = Decompress(Encoding::kDeflate, raw, 16 << 20);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPayloadTooLarge);
}

}  // namespace
}  // namespace avtrace::ingest
