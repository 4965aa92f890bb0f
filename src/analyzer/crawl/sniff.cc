#include "analyzer/crawl/sniff.h"

#include <cstdint>

namespace avtrace::analyzer::crawl {
namespace {

uint32_t Be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// Walks the boxes in [data, data+size) and collects stsd sample entry types below moov.
void Walk(const unsigned char* data, size_t size, int depth, std::set<std::string>* out) {
  size_t off = 0;
  while (depth < 8 && off + 8 <= size) {
    uint64_t len = Be32(data + off);
    std::string type(reinterpret_cast<const char*>(data + off + 4), 4);
    size_t header = 8;
    if (len == 1) {
      if (off + 16 > size) return;
      len = (uint64_t{Be32(data + off + 8)} << 32) | Be32(data + off + 12);
      header = 16;
    } else if (len == 0) {
      len = size - off;
    }
    if (len < header || len > size - off) return;
    const unsigned char* body = data + off + header;
    size_t body_size = static_cast<size_t>(len) - header;
    if (type == "moov" || type == "trak" || type == "mdia" || type == "minf" || type == "stbl") {
      Walk(body, body_size, depth + 1, out);
    } else if (type == "stsd" && body_size >= 8) {
      uint32_t count = Be32(body + 4);
      size_t e = 8;
      for (uint32_t i = 0; i < count && i < 16 && e + 8 <= body_size; ++i) {
        uint32_t elen = Be32(body + e);
        std::string fourcc(reinterpret_cast<const char*>(body + e + 4), 4);
        std::string fam = CodecFamily(fourcc);
        if (!fam.empty()) out->insert(fam);
        if (elen < 8 || elen > body_size - e) break;
        e += elen;
      }
    }
    off += static_cast<size_t>(len);
  }
}

std::string StreamTypeFamily(uint8_t t) {
  switch (t) {
    case 0x1B: return "avc";
    case 0x24: return "hevc";
    case 0x0F: case 0x11: return "aac";
    case 0x03: case 0x04: return "mp3";
    case 0x81: return "ac3";
    case 0x87: return "eac3";
    default: return {};  // private data, metadata, encrypted (SAMPLE-AES) types
  }
}

}  // namespace

std::string CodecFamily(std::string_view c) {
  std::string_view head = c.substr(0, c.find('.'));
  if (head == "avc1" || head == "avc3") return "avc";
  if (head == "hvc1" || head == "hev1" || head == "dvh1" || head == "dvhe") return "hevc";
  if (head == "mp4a") {
    // mp4a.40.x is AAC; mp4a.69 / mp4a.6B MPEG audio; mp4a.a5 / a6 AC-3 / E-AC-3.
    std::string_view oti = c.size() > 5 ? c.substr(5, 2) : std::string_view();
    if (oti == "69" || oti == "6B" || oti == "6b") return "mp3";
    if (oti == "a5" || oti == "A5") return "ac3";
    if (oti == "a6" || oti == "A6") return "eac3";
    return "aac";
  }
  if (head == "ac-3") return "ac3";
  if (head == "ec-3") return "eac3";
  if (head == "ac-4") return "ac4";
  if (head == "Opus" || head == "opus") return "opus";
  if (head == "vp09" || head == "vp9") return "vp9";
  if (head == "vp08" || head == "vp8") return "vp8";
  if (head == "av01") return "av1";
  if (head == "fLaC" || head == "flac") return "flac";
  if (head == ".mp3" || head == "mp3") return "mp3";
  if (head == "wvtt") return "webvtt";
  if (head == "stpp") return "ttml";
  return {};
}

std::set<std::string> CodecFamilies(const std::vector<std::string_view>& codecs) {
  std::set<std::string> out;
  for (const auto& c : codecs) {
    std::string f = CodecFamily(c);
    if (!f.empty()) out.insert(f);
  }
  return out;
}

std::set<std::string> SniffMp4Codecs(std::string_view bytes) {
  std::set<std::string> out;
  Walk(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0, &out);
  return out;
}

std::set<std::string> SniffTsCodecs(std::string_view bytes) {
  std::set<std::string> out;
  const auto* d = reinterpret_cast<const unsigned char*>(bytes.data());
  int pmt_pid = -1;
  for (size_t off = 0; off + 188 <= bytes.size() && off < 188 * 2000; off += 188) {
    const unsigned char* p = d + off;
    if (p[0] != 0x47) return out;
    int pid = ((p[1] & 0x1F) << 8) | p[2];
    bool start = p[1] & 0x40;
    int afc = (p[3] >> 4) & 3;
    if (!start || (pid != 0 && pid != pmt_pid)) continue;
    size_t pos = 4;
    if (afc == 2) continue;
    if (afc == 3) pos += 1 + p[4];
    if (pos >= 188) continue;
    pos += 1 + p[pos];  // pointer field
    if (pos + 8 > 188) continue;
    const unsigned char* s = p + pos;
    size_t section_len = ((s[1] & 0x0F) << 8) | s[2];
    size_t end = std::min<size_t>(188 - pos, 3 + section_len);
    if (end < 4) continue;
    end -= 4;  // CRC
    if (pid == 0 && s[0] == 0x00) {
      for (size_t i = 8; i + 4 <= end; i += 4) {
        int program = (s[i] << 8) | s[i + 1];
        if (program != 0) {
          pmt_pid = ((s[i + 2] & 0x1F) << 8) | s[i + 3];
          break;
        }
      }
    } else if (pid == pmt_pid && s[0] == 0x02 && end >= 12) {
      size_t info_len = ((s[10] & 0x0F) << 8) | s[11];
      for (size_t i = 12 + info_len; i + 5 <= end;) {
        std::string fam = StreamTypeFamily(s[i]);
        if (!fam.empty()) out.insert(fam);
        size_t es_len = ((s[i + 3] & 0x0F) << 8) | s[i + 4];
        i += 5 + es_len;
      }
      return out;
    }
  }
  return out;
}

}  // namespace avtrace::analyzer::crawl
