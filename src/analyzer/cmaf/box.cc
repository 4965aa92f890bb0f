#include "analyzer/cmaf/box.h"

#include <algorithm>
#include <functional>

namespace avtrace::analyzer::cmaf {
namespace {

constexpr int kMaxDepth = 16;
constexpr size_t kMaxBoxes = 100000;

bool IsContainer(std::string_view t) {
  for (std::string_view c : {"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts",
                             "dinf", "mfra"})
    if (t == c) return true;
  return false;
}

// Bounds-checked big-endian reader over one box payload.
class Reader {
 public:
  Reader(std::string_view d) : d_(d) {}
  bool U8(uint8_t* v) { return Get(1, v); }
  bool U32(uint32_t* v) { return Get(4, v); }
  bool U64(uint64_t* v) { return Get(8, v); }
  bool Skip(size_t n) {
    if (pos_ + n > d_.size()) return false;
    pos_ += n;
    return true;
  }
  bool FullBox(uint8_t* version, uint32_t* flags) {
    uint32_t vf;
    if (!U32(&vf)) return false;
    *version = static_cast<uint8_t>(vf >> 24);
    *flags = vf & 0xFFFFFF;
    return true;
  }
  size_t remaining() const { return d_.size() - pos_; }
  std::string_view Take(size_t n) {
    std::string_view r = d_.substr(pos_, std::min(n, remaining()));
    pos_ += r.size();
    return r;
  }

 private:
  template <typename T>
  bool Get(size_t n, T* v) {
    if (pos_ + n > d_.size()) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; ++i) x = (x << 8) | static_cast<uint8_t>(d_[pos_ + i]);
    pos_ += n;
    *v = static_cast<T>(x);
    return true;
  }
  std::string_view d_;
  size_t pos_ = 0;
};

struct Walker {
  std::string_view bytes;
  Findings* out;
  std::vector<Box>* boxes;
  size_t count = 0;
  // Called for every box with its payload; returns nothing, may read anything in the payload.
  std::function<void(const Box&, std::string_view payload)> visit;

  void Walk(uint64_t begin, uint64_t end, int depth, const std::string& prefix) {
    std::map<std::string, int> seen;
    uint64_t pos = begin;
    while (pos < end && count < kMaxBoxes) {
      if (end - pos < 8) {
        out->Add(RuleId::kMp4BoxSizeInvalid, 0, std::to_string(end - pos) + " trailing bytes are too few for a box header.",
                 prefix + "@" + std::to_string(pos));
        return;
      }
      Reader r(bytes.substr(pos, end - pos));
      uint32_t size32 = 0;
      r.U32(&size32);
      std::string type(r.Take(4));
      for (char& c : type)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
      uint64_t size = size32, header = 8;
      if (size32 == 1) {
        if (!r.U64(&size)) size = 0;
        header = 16;
      } else if (size32 == 0) {
        size = end - pos;  // to the end of the enclosing space (§4.2)
      }
      if (type == "uuid") header += 16;
      std::string path = prefix + type + "[" + std::to_string(seen[type]++) + "]";
      if (size < header || size > end - pos) {
        out->Add(RuleId::kMp4BoxSizeInvalid, 0,
                 "Box '" + type + "' at offset " + std::to_string(pos) + " has size " + std::to_string(size) +
                     " but only " + std::to_string(end - pos) + " bytes remain (header " + std::to_string(header) + ").",
                 path);
        return;
      }
      ++count;
      Box b{type, pos, size, path};
      boxes->push_back(b);
      if (visit) visit(b, bytes.substr(pos + header, size - header));
      if (IsContainer(type) && depth < kMaxDepth) Walk(pos + header, pos + size, depth + 1, path + "/");
      pos += size;
    }
  }
};

std::vector<std::string> ReadBrands(std::string_view payload) {
  std::vector<std::string> brands;
  Reader r(payload);
  brands.emplace_back(r.Take(4));
  r.Skip(4);
  while (r.remaining() >= 4) brands.emplace_back(r.Take(4));
  return brands;
}

bool HasCmafBrand(const std::vector<std::string>& brands) {
  for (const auto& b : brands)
    if (b == "cmfc" || b == "cmf2" || b == "cmff" || b == "cmfl" || b == "cmfs") return true;
  return false;
}

}  // namespace

bool LooksLikeMp4(std::string_view bytes) {
  if (bytes.size() < 8) return false;
  std::string_view t = bytes.substr(4, 4);
  for (std::string_view k : {"ftyp", "styp", "moov", "moof", "sidx", "emsg", "free", "skip", "prft"})
    if (t == k) return true;
  return false;
}

InitSegment ParseInit(std::string_view bytes, Findings* out) {
  InitSegment init;
  uint32_t current_track = 0;
  bool saw_moov = false;
  std::vector<uint32_t> trex_ids;
  Walker w{bytes, out, &init.boxes, 0, {}};
  w.visit = [&](const Box& b, std::string_view payload) {
    Reader r(payload);
    uint8_t v;
    uint32_t flags;
    if (b.type == "ftyp") {
      init.brands = ReadBrands(payload);
    } else if (b.type == "moov") {
      saw_moov = true;
    } else if (b.type == "mvex") {
      init.fragmented = true;
    } else if (b.type == "tkhd" && r.FullBox(&v, &flags)) {
      uint32_t id = 0;
      if (r.Skip(v == 1 ? 16 : 8) && r.U32(&id)) {
        current_track = id;
        init.tracks[id].track_id = id;
      }
    } else if (b.type == "mdhd" && r.FullBox(&v, &flags)) {
      uint32_t ts = 0;
      if (r.Skip(v == 1 ? 16 : 8) && r.U32(&ts) && init.tracks.count(current_track))
        init.tracks[current_track].timescale = ts;
    } else if (b.type == "hdlr" && r.FullBox(&v, &flags) && r.Skip(4)) {
      if (init.tracks.count(current_track)) init.tracks[current_track].handler = std::string(r.Take(4));
    } else if (b.type == "trex" && r.FullBox(&v, &flags)) {
      uint32_t id = 0, sdi = 0, dur = 0;
      if (r.U32(&id) && r.U32(&sdi) && r.U32(&dur)) {
        trex_ids.push_back(id);
        init.tracks[id].track_id = id;
        init.tracks[id].default_sample_duration = dur;
      }
    }
  };
  w.Walk(0, bytes.size(), 0, "");
  if (init.boxes.empty() || init.boxes.front().type != "ftyp")
    out->Add(RuleId::kMp4InitMissingFtyp, 0, "The initialization segment does not start with ftyp.");
  if (saw_moov && !init.fragmented)
    out->Add(RuleId::kMp4NotFragmented, 0, "moov has no mvex: not a fragmented MP4.", "moov[0]");
  if (init.fragmented)
    for (const auto& [id, t] : init.tracks)
      if (std::find(trex_ids.begin(), trex_ids.end(), id) == trex_ids.end())
        out->Add(RuleId::kMp4TrexMissing, 0, "Track " + std::to_string(id) + " has no trex.", "moov[0]/mvex[0]");
  if (!init.brands.empty() && !HasCmafBrand(init.brands) && init.fragmented) {
    std::string list;
    for (const auto& b : init.brands) list += (list.empty() ? "" : ",") + b;
    out->Add(RuleId::kCmafBrandAbsent, 0, "Fragmented MP4 with brands " + list + " and no CMAF brand.", "ftyp[0]");
  }
  return init;
}

MediaSegment ParseMedia(std::string_view bytes, const InitSegment* init, Findings* out) {
  MediaSegment seg;
  struct TrafState {
    uint32_t flags = 0;
    uint64_t base_offset = 0;
    uint32_t default_duration = 0, default_size = 0;
    bool has_tfhd = false, has_tfdt = false;
    std::string path;
    std::vector<std::pair<uint64_t, uint64_t>> data;  // [start, end) of each trun's samples
  };
  std::vector<TrafState> trafs;
  std::vector<std::pair<uint64_t, uint64_t>> mdats;  // payload ranges
  uint64_t moof_offset = 0;
  bool saw_moof = false;
  Walker w{bytes, out, &seg.boxes, 0, {}};
  w.visit = [&](const Box& b, std::string_view payload) {
    Reader r(payload);
    uint8_t v;
    uint32_t flags;
    if (b.type == "styp") {
      seg.brands = ReadBrands(payload);
    } else if (b.type == "moof") {
      saw_moof = true;
      moof_offset = b.offset;
    } else if (b.type == "mdat") {
      mdats.emplace_back(b.offset + (b.size - payload.size()), b.offset + b.size);
    } else if (b.type == "mfhd" && r.FullBox(&v, &flags)) {
      uint32_t s;
      if (r.U32(&s)) seg.sequence_numbers.push_back(s);
    } else if (b.type == "traf") {
      trafs.push_back({});
      trafs.back().path = b.path;
      trafs.back().base_offset = moof_offset;
      seg.fragments.push_back({});
    } else if (trafs.empty()) {
      return;
    } else if (b.type == "tfhd" && r.FullBox(&v, &flags)) {
      TrafState& t = trafs.back();
      TrackFragment& f = seg.fragments.back();
      t.has_tfhd = true;
      t.flags = flags;
      uint32_t id = 0, x = 0;
      r.U32(&id);
      f.track_id = id;
      if (flags & 0x1) r.U64(&t.base_offset);
      if (flags & 0x2) r.U32(&x);
      if (flags & 0x8) r.U32(&t.default_duration);
      if (flags & 0x10) r.U32(&t.default_size);
      if (init) {
        auto it = init->tracks.find(id);
        if (it == init->tracks.end())
          out->Add(RuleId::kMp4TrackUnknown, 0, "tfhd track_ID " + std::to_string(id) + " is not in the initialization segment.", b.path);
        else if (!(flags & 0x8))
          t.default_duration = it->second.default_sample_duration;
      }
    } else if (b.type == "tfdt" && r.FullBox(&v, &flags)) {
      trafs.back().has_tfdt = true;
      uint64_t t64 = 0;
      uint32_t t32 = 0;
      if (v == 1 ? r.U64(&t64) : r.U32(&t32)) seg.fragments.back().base_decode_time = v == 1 ? t64 : t32;
    } else if (b.type == "trun" && r.FullBox(&v, &flags)) {
      TrafState& t = trafs.back();
      TrackFragment& f = seg.fragments.back();
      uint32_t n = 0, data_offset = 0, x;
      if (!r.U32(&n)) return;
      if (flags & 0x1) r.U32(&data_offset);
      if (flags & 0x4) r.U32(&x);
      uint64_t total_size = 0;
      bool sizes_known = (flags & 0x200) || t.default_size;
      uint32_t per = ((flags & 0x100) ? 4 : 0) + ((flags & 0x200) ? 4 : 0) + ((flags & 0x400) ? 4 : 0) + ((flags & 0x800) ? 4 : 0);
      if (per && static_cast<uint64_t>(n) * per > r.remaining()) {
        out->Add(RuleId::kMp4BoxSizeInvalid, 0, "trun declares " + std::to_string(n) + " samples but is too short for them.", b.path);
        return;
      }
      if (per == 0) {  // every sample takes the defaults: no loop over a hostile 2^32 count
        f.duration += static_cast<uint64_t>(n) * t.default_duration;
        total_size += static_cast<uint64_t>(n) * t.default_size;
      }
      for (uint32_t i = 0; per != 0 && i < n; ++i) {
        uint32_t d = t.default_duration, s = t.default_size;
        if (flags & 0x100) r.U32(&d);
        if (flags & 0x200) r.U32(&s);
        if (flags & 0x400) r.U32(&x);
        if (flags & 0x800) r.U32(&x);
        f.duration += d;
        total_size += s;
      }
      f.samples += n;
      if (sizes_known && (flags & 0x1)) {
        uint64_t start = t.base_offset + static_cast<uint64_t>(static_cast<int64_t>(static_cast<int32_t>(data_offset)));
        t.data.emplace_back(start, start + total_size);
      }
    }
  };
  w.Walk(0, bytes.size(), 0, "");
  if (!saw_moof) out->Add(RuleId::kMp4MediaMissingMoof, 0, "The media segment has no moof.");
  if (saw_moof && mdats.empty()) out->Add(RuleId::kMp4MediaMissingMdat, 0, "The media segment has no mdat.");
  for (const auto& t : trafs) {
    if (!t.has_tfhd) out->Add(RuleId::kMp4TrafMissingTfhd, 0, "traf without tfhd.", t.path);
    if (!t.has_tfdt) out->Add(RuleId::kMp4TfdtMissing, 0, "traf without tfdt.", t.path);
    for (const auto& range : t.data) {
      // Not a structured binding: clang 14 cannot capture those in a lambda.
      const auto s = range.first, e = range.second;
      bool inside = std::any_of(mdats.begin(), mdats.end(),
                                [s, e](const auto& m) { return s >= m.first && e <= m.second; });
      if (!inside && !mdats.empty())
        out->Add(RuleId::kMp4TrunOutOfRange, 0,
                 "trun samples span bytes " + std::to_string(s) + "-" + std::to_string(e) + ", outside every mdat payload.",
                 t.path + "/trun");
    }
  }
  return seg;
}

void CheckSequence(const std::vector<MediaSegment>& segments, const std::vector<std::string>& names,
                   Findings* out) {
  std::map<uint32_t, uint64_t> next_tfdt;  // per track: expected tfdt of the next fragment
  std::optional<uint32_t> last_seq;
  for (size_t i = 0; i < segments.size(); ++i) {
    const std::string& name = i < names.size() ? names[i] : std::to_string(i);
    for (uint32_t s : segments[i].sequence_numbers) {
      if (last_seq && s <= *last_seq)
        out->Add(RuleId::kMp4SequenceNotIncreasing, 0,
                 "mfhd sequence_number " + std::to_string(s) + " follows " + std::to_string(*last_seq) + ".", name);
      last_seq = s;
    }
    for (const auto& f : segments[i].fragments) {
      if (!f.base_decode_time) continue;
      auto it = next_tfdt.find(f.track_id);
      if (it != next_tfdt.end() && it->second != *f.base_decode_time)
        out->Add(RuleId::kMp4TfdtDiscontinuity, 0,
                 "Track " + std::to_string(f.track_id) + " tfdt " + std::to_string(*f.base_decode_time) +
                     " but the previous fragment ended at " + std::to_string(it->second) + ".",
                 name);
      next_tfdt[f.track_id] = *f.base_decode_time + f.duration;
    }
  }
}

std::optional<double> SegmentDuration(const MediaSegment& seg, const InitSegment& init, uint32_t track_id) {
  auto it = init.tracks.find(track_id);
  if (it == init.tracks.end() || it->second.timescale == 0) return std::nullopt;
  uint64_t total = 0;
  for (const auto& f : seg.fragments)
    if (f.track_id == track_id) total += f.duration;
  return static_cast<double>(total) / it->second.timescale;
}

std::optional<Sidx> ParseSidx(std::string_view bytes) {
  size_t pos = 0;
  for (size_t boxes = 0; pos + 8 <= bytes.size() && boxes < kMaxBoxes; ++boxes) {
    Reader h(bytes.substr(pos));
    uint32_t size32 = 0;
    h.U32(&size32);
    std::string_view type = bytes.substr(pos + 4, 4);
    uint64_t size = size32, header = 8;
    if (size32 == 1) {
      if (!h.Skip(4) || !h.U64(&size)) return std::nullopt;
      header = 16;
    } else if (size32 == 0) {
      size = bytes.size() - pos;  // to the end of the input
    }
    if (size < header) return std::nullopt;
    if (type != "sidx") {
      if (size > bytes.size() - pos) return std::nullopt;
      pos += size;
      continue;
    }
    if (size > bytes.size() - pos) return std::nullopt;  // truncated
    Reader r(bytes.substr(pos + header, size - header));
    uint8_t version;
    uint32_t flags, reference_id, u32;
    Sidx out;
    if (!r.FullBox(&version, &flags) || !r.U32(&reference_id) || !r.U32(&out.timescale))
      return std::nullopt;
    if (version == 0) {
      if (!r.U32(&u32)) return std::nullopt;
      out.earliest_presentation_time = u32;
      if (!r.U32(&u32)) return std::nullopt;
      out.first_offset = u32;
    } else if (!r.U64(&out.earliest_presentation_time) || !r.U64(&out.first_offset)) {
      return std::nullopt;
    }
    if (!r.U32(&u32)) return std::nullopt;  // reserved(16) reference_count(16)
    uint32_t count = u32 & 0xFFFF;
    if (static_cast<uint64_t>(count) * 12 > r.remaining()) return std::nullopt;
    out.references.reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t type_size, duration, sap;
      r.U32(&type_size);
      r.U32(&duration);
      r.U32(&sap);
      out.references.push_back({(type_size >> 31) != 0, type_size & 0x7FFFFFFF, duration});
    }
    return out;
  }
  return std::nullopt;
}

}  // namespace avtrace::analyzer::cmaf
