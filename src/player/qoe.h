#pragma once
// QoE per playback session: a calculator fed the session's events in arrival order, using the
// client timestamps for intervals. The formulas are defined in docs/CONVENTIONS.md ("Player
// QoE"); this header only names the inputs and outputs.
//
// QoeState is a plain struct (integers and flags only) so the store can persist it as part of
// SessionState and a restarted server resumes exactly where it was. QoeCalculator is a set of
// pure functions over QoeState: Feed() one event, Summarize() at any time (Finish() when the
// session ends, which closes open rebuffer/seek intervals and decides exit-before-video-start).
//
// Event names understood (others are counted but have no QoE effect):
//   m-trace:  manifest_loaded, segment_loaded, playback_started, bitrate_switch,
//             rebuffer_started, rebuffer_ended, playback_error, startup_time_measured,
//             metrics_sampled, session_ended, startup_completed
//   avtrace:  play_intent, first_frame, seek_started, seek_ended, dropped_frames, webrtc_stats,
//             playback_paused, playback_resumed
//   CMCD:     any event whose meta carries cmcd.* keys (cmcd.sta, cmcd.br, cmcd.bs, cmcd.msd,
//             cmcd.ec, cmcd.dfa, cmcd.bsa, cmcd.bsda), see cmcd.h.
//
// Threads: QoeState is a value; the functions are thread-compatible.

#include <cstdint>
#include <string_view>

#include "otlp/model.h"

namespace avtrace::player {

enum class PlayPhase : uint8_t {
  kIdle = 0,        // before first frame
  kPlaying = 1,
  kRebuffering = 2,
  kSeeking = 3,
  kPaused = 4,
  kEnded = 5,
};

struct QoeState {
  // Times are client Unix nanoseconds; 0 = not seen.
  uint64_t first_event_ns = 0;
  uint64_t last_event_ns = 0;
  uint64_t play_intent_ns = 0;
  uint64_t first_frame_ns = 0;
  int64_t reported_startup_ms = -1;  // from startup_time_measured / cmcd.msd; -1 = none
  PlayPhase phase = PlayPhase::kIdle;
  uint64_t phase_since_ns = 0;       // when the current phase began
  uint64_t rebuffer_count = 0;
  uint64_t rebuffer_ns = 0;          // counted rebuffer time
  uint64_t seek_ns = 0;              // time in seeks after first frame (excluded from playing)
  uint64_t paused_ns = 0;            // time paused after first frame (excluded from playing)
  uint64_t error_count = 0;
  bool fatal_before_start = false;   // video start failure
  bool fatal_after_start = false;    // playback failure
  bool ended = false;                // session_ended seen (or finished by the sweeper)
  uint64_t bitrate_switches_up = 0;
  uint64_t bitrate_switches_down = 0;
  uint64_t bitrate_switches_unknown = 0;  // bitrate_switch without a usable bitrate
  uint64_t current_bitrate_kbps = 0;      // 0 = unknown
  uint64_t bitrate_since_ns = 0;
  uint64_t bitrate_kbps_us = 0;           // sum(kbps * microseconds) while playing
  uint64_t bitrate_time_us = 0;           // playing time with a known bitrate
  uint64_t dropped_frames_delta = 0;     // sum of dropped_frames.count
  uint64_t dropped_frames_absolute = 0;  // max of cumulative counters (metrics_sampled, cmcd.dfa)
  uint64_t cmcd_starvations_absolute = 0;  // cmcd.bsa
  uint64_t cmcd_starvation_ms_absolute = 0;  // cmcd.bsda
};

// What a dashboard shows; every field defined in docs/CONVENTIONS.md.
struct QoeSummary {
  bool has_startup = false;
  double startup_ms = 0;
  uint64_t rebuffer_count = 0;
  double rebuffer_ms = 0;
  double playing_ms = 0;
  double rebuffer_ratio = 0;  // rebuffer / (playing + rebuffer), 0 when both are 0
  bool exit_before_video_start = false;
  bool video_start_failure = false;
  bool playback_failure = false;
  uint64_t error_count = 0;
  uint64_t bitrate_switches_up = 0;
  uint64_t bitrate_switches_down = 0;
  bool has_avg_bitrate = false;
  double avg_bitrate_kbps = 0;  // time-weighted over playing time with a known bitrate
  uint64_t dropped_frames = 0;
  bool has_score = false;       // no score for exits before video start
  double score = 0;             // 0..100
};

class QoeCalculator {
 public:
  // Feeds one event; `meta_json` may be empty. Never fails: malformed meta is ignored.
  static void Feed(QoeState* s, std::string_view event_name, uint64_t client_ns,
                   std::string_view meta_json);
  // Closes open intervals at the last event time and marks the session ended.
  static void Finish(QoeState* s);
  static QoeSummary Summarize(const QoeState& s);
};

}  // namespace avtrace::player
