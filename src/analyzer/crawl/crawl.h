#pragma once
// The crawler behind `avtrace check https://...`: fetches a manifest and what it references and
// runs the checks that need more than one document.
//
//  HLS Multivariant Playlist: every variant, rendition and I-frame playlist is fetched (once per
//    distinct URL, at most max_playlists) and analyzed as a report of its own; then, per variant,
//    the first segments_per_variant segments are sampled (byte ranges are measured without a
//    fetch) for the measured peak / average bit rate against BANDWIDTH / AVERAGE-BANDWIDTH
//    (adding the default rendition of the variant's AUDIO group, as the spec's "playable
//    combination" does), the EXT-X-MAP or first TS segment is sniffed for codecs against CODECS,
//    and the variants are compared: target durations, segment boundaries per Media Sequence
//    Number, Discontinuity Sequence Numbers, audio codecs per AUDIO group.
//  HLS Media Playlist: its first segments are fetched (availability, Content-Type).
//  DASH MPD: per Representation (at most max_representations), the initialization segment and
//    segments_per_representation media segments (the first ones; for a dynamic MPD the newest
//    ones up to the live edge at `now`) are fetched. The first (dynamic: the live-edge) segment
//    runs through the ISO-BMFF/CMAF checks and its duration is compared with the MPD's; the
//    init's sample entries are compared with @codecs; the sampled segments' bit rate is checked
//    against @bandwidth with the minBufferTime buffer model of ISO/IEC 23009-1 §5.3.5.2
//    (dash_bandwidth_exceeded) and for a declaration ten times too high
//    (dash_bandwidth_overstated). SegmentBase with @indexRange: the sidx is fetched and every
//    subsegment is measured from its reference sizes, without downloading media; SegmentURL
//    @mediaRange sizes are taken from the ranges (only the first range is fetched).
//
// Every fetch goes through the one Fetcher (so a CurlFetcher reuses connections and applies the
// SSRF policy on every request). Failures after the first fetch become crawl_fetch_failed
// findings; only the target's own fetch fails the call.
//
// Threads: blocks the caller; uses `fetcher` from this thread only. Errors: the Status of
// fetching `url` itself.

#include <string_view>
#include <vector>

#include "analyzer/fetch/fetcher.h"
#include "analyzer/finding.h"
#include "core/status.h"

namespace avtrace::analyzer::crawl {

struct CrawlOptions {
  size_t segments_per_variant = 3;
  size_t max_playlists = 64;
  size_t max_representations = 16;
  // DASH: media segments fetched per Representation for the @bandwidth check (the first ones of
  // a static MPD, the newest ones up to the live edge of a dynamic MPD); SegmentBase needs none
  // (the sidx at @indexRange gives every subsegment's size).
  size_t segments_per_representation = 3;
};

// `now_unix` is the wall clock (seconds) for DASH live-edge rules.
Result<std::vector<Report>> Crawl(std::string_view url, fetch::Fetcher& fetcher, double now_unix,
                                  const CrawlOptions& options = {});

}  // namespace avtrace::analyzer::crawl
