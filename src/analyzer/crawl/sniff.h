#pragma once
// Cheap codec sniffing for the crawler: which codec families a CODECS string names, and which a
// fragmented-MP4 initialization section (stsd sample entries) or an MPEG-TS segment (PMT stream
// types) actually holds, so that CODECS can be compared with the media.
//
// Families are coarse on purpose ("avc", "hevc", "aac", "ac3", "eac3", "mp3", "opus", "vp9",
// "av1", "flac", "webvtt", "ttml", ...): profile and level are not compared. Encrypted sample
// entries (encv/enca) and TS stream types that do not name a codec yield nothing, so unknown
// media never produces a finding.
//
// Threads: pure. Errors: malformed input yields an empty or partial set; never reads out of
// bounds.

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace avtrace::analyzer::crawl {

// "avc1.64001f" -> "avc"; "" for entries it does not know.
std::string CodecFamily(std::string_view codec);
std::set<std::string> CodecFamilies(const std::vector<std::string_view>& codecs);

std::set<std::string> SniffMp4Codecs(std::string_view init_bytes);
std::set<std::string> SniffTsCodecs(std::string_view ts_bytes);

}  // namespace avtrace::analyzer::crawl
