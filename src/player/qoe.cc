#include "player/qoe.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

namespace avtrace::player {
namespace {

// The meta values QoE looks at, pulled out of the meta JSON in one pass.
struct MetaSignals {
  double duration_ms = -1;
  double bitrate_kbps = -1;
  double count = -1;
  double dropped_frames = -1;
  bool fatal = false;
  bool webrtc_error = false;
  // CMCD
  std::string_view sta;  // valid only during Feed (points into the parser)
  bool has_sta = false;
  double br = -1;
  int bs = -1;  // -1 absent, 0 false, 1 true
  double msd = -1;
  bool has_ec = false;
  double dfa = -1;
  double bsa = -1;
  double bsda = -1;
};

bool Number(simdjson::dom::element v, double* out) {
  double d;
  if (v.get_double().get(d) == simdjson::SUCCESS && std::isfinite(d)) {
    *out = d;
    return true;
  }
  int64_t i;
  if (v.get_int64().get(i) == simdjson::SUCCESS) {
    *out = static_cast<double>(i);
    return true;
  }
  uint64_t u;
  if (v.get_uint64().get(u) == simdjson::SUCCESS) {
    *out = static_cast<double>(u);
    return true;
  }
  return false;
}

bool NeedsMeta(std::string_view name, std::string_view meta) {
  if (meta.size() <= 2) return false;
  static constexpr std::string_view kNames[] = {
      "playback_started", "startup_time_measured", "rebuffer_ended", "bitrate_switch",
      "playback_error",   "dropped_frames",        "metrics_sampled", "webrtc_stats",
      "startup_completed"};
  for (auto n : kNames)
    if (n == name) return true;
  return meta.find("\"cmcd.") != std::string_view::npos;
}

void ReadMeta(std::string_view meta, simdjson::dom::parser* parser, MetaSignals* m) {
  simdjson::dom::object obj;
  if (parser->parse(meta.data(), meta.size()).get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto field : obj) {
    std::string_view k = field.key;
    simdjson::dom::element v = field.value;
    double d;
    if (k == "duration_ms") {
      if (Number(v, &d) && d >= 0) m->duration_ms = d;
    } else if (k == "bitrate_kbps") {
      if (Number(v, &d) && d > 0) m->bitrate_kbps = d;
    } else if (k == "bitrate_bps" || k == "bitrate") {
      if (Number(v, &d) && d > 0) m->bitrate_kbps = d / 1000.0;
    } else if (k == "count") {
      if (Number(v, &d) && d >= 0) m->count = d;
    } else if (k == "dropped_frames") {
      if (Number(v, &d) && d >= 0) m->dropped_frames = d;
    } else if (k == "fatal") {
      bool b;
      if (v.get_bool().get(b) == simdjson::SUCCESS) m->fatal = b;
    } else if (k == "webrtc.error_code") {
      m->webrtc_error = true;
    } else if (k.substr(0, 5) == "cmcd.") {
      std::string_view ck = k.substr(5);
      if (ck == "sta") {
        std::string_view s;
        if (v.get_string().get(s) == simdjson::SUCCESS) {
          m->sta = s;
          m->has_sta = true;
        }
      } else if (ck == "br") {
        if (Number(v, &d) && d > 0) m->br = d;
      } else if (ck == "bs") {
        bool b;
        if (v.get_bool().get(b) == simdjson::SUCCESS) m->bs = b ? 1 : 0;
      } else if (ck == "msd") {
        if (Number(v, &d) && d >= 0) m->msd = d;
      } else if (ck == "ec") {
        m->has_ec = true;
      } else if (ck == "dfa") {
        if (Number(v, &d) && d >= 0) m->dfa = d;
      } else if (ck == "bsa") {
        if (Number(v, &d) && d >= 0) m->bsa = d;
      } else if (ck == "bsda") {
        if (Number(v, &d) && d >= 0) m->bsda = d;
      }
    }
  }
}

uint64_t Since(uint64_t from, uint64_t to) { return to > from ? to - from : 0; }

void AccumulateBitrate(QoeState* s, uint64_t t) {
  if (s->phase == PlayPhase::kPlaying && s->current_bitrate_kbps > 0 && s->bitrate_since_ns > 0) {
    uint64_t us = Since(s->bitrate_since_ns, t) / 1000;
    s->bitrate_kbps_us += s->current_bitrate_kbps * us;
    s->bitrate_time_us += us;
  }
  s->bitrate_since_ns = std::max(s->bitrate_since_ns, t);
}

void EnterPhase(QoeState* s, PlayPhase next, uint64_t t) {
  AccumulateBitrate(s, t);
  uint64_t d = Since(s->phase_since_ns, t);
  switch (s->phase) {
    case PlayPhase::kRebuffering: s->rebuffer_ns += d; break;
    case PlayPhase::kSeeking: s->seek_ns += d; break;
    case PlayPhase::kPaused: s->paused_ns += d; break;
    default: break;
  }
  s->phase = next;
  s->phase_since_ns = std::max(s->phase_since_ns, t);
}

void FirstFrame(QoeState* s, uint64_t t) {
  if (s->first_frame_ns != 0 || s->phase == PlayPhase::kEnded) return;
  s->first_frame_ns = t;
  s->phase = PlayPhase::kPlaying;
  s->phase_since_ns = t;
  s->bitrate_since_ns = t;
}

void SetBitrate(QoeState* s, uint64_t kbps, uint64_t t) {
  if (kbps == 0) return;
  AccumulateBitrate(s, t);
  if (s->current_bitrate_kbps != 0) {
    if (kbps > s->current_bitrate_kbps) ++s->bitrate_switches_up;
    if (kbps < s->current_bitrate_kbps) ++s->bitrate_switches_down;
  }
  s->current_bitrate_kbps = kbps;
}

void Fatal(QoeState* s, uint64_t t) {
  if (s->first_frame_ns == 0) {
    s->fatal_before_start = true;
  } else {
    s->fatal_after_start = true;
  }
  EnterPhase(s, PlayPhase::kEnded, t);
}

void StartRebuffer(QoeState* s, uint64_t t) {
  // Stalls before the first frame (startup) and during seeks are not rebuffering.
  if (s->phase != PlayPhase::kPlaying) return;
  ++s->rebuffer_count;
  EnterPhase(s, PlayPhase::kRebuffering, t);
}

void ApplyCmcdState(QoeState* s, std::string_view sta, uint64_t t) {
  if (sta == "p") {
    if (s->first_frame_ns == 0) {
      FirstFrame(s, t);
    } else if (s->phase == PlayPhase::kRebuffering || s->phase == PlayPhase::kSeeking ||
               s->phase == PlayPhase::kPaused) {
      EnterPhase(s, PlayPhase::kPlaying, t);
    }
  } else if (sta == "r") {
    StartRebuffer(s, t);
  } else if (sta == "k") {
    if (s->first_frame_ns != 0 && s->phase != PlayPhase::kEnded &&
        s->phase != PlayPhase::kSeeking)
      EnterPhase(s, PlayPhase::kSeeking, t);
  } else if (sta == "a") {
    if (s->phase == PlayPhase::kPlaying || s->phase == PlayPhase::kRebuffering)
      EnterPhase(s, PlayPhase::kPaused, t);
  } else if (sta == "e" || sta == "q") {
    EnterPhase(s, PlayPhase::kEnded, t);
    s->ended = true;
  } else if (sta == "f") {
    ++s->error_count;
    Fatal(s, t);
  }
}

}  // namespace

void QoeCalculator::Feed(QoeState* s, std::string_view name, uint64_t t, std::string_view meta) {
  if (s->first_event_ns == 0 || t < s->first_event_ns) s->first_event_ns = t;
  s->last_event_ns = std::max(s->last_event_ns, t);
  MetaSignals m;
  thread_local simdjson::dom::parser parser;
  if (NeedsMeta(name, meta)) ReadMeta(meta, &parser, &m);

  if (name == "play_intent") {
    if (s->play_intent_ns == 0) s->play_intent_ns = t;
  } else if (name == "first_frame" || name == "playback_started" ||
             name == "startup_completed") {
    FirstFrame(s, t);
    if (name != "first_frame" && m.duration_ms >= 0 && s->reported_startup_ms < 0)
      s->reported_startup_ms = static_cast<int64_t>(m.duration_ms);
  } else if (name == "startup_time_measured") {
    if (m.duration_ms >= 0 && s->reported_startup_ms < 0)
      s->reported_startup_ms = static_cast<int64_t>(m.duration_ms);
  } else if (name == "rebuffer_started") {
    StartRebuffer(s, t);
  } else if (name == "rebuffer_ended") {
    if (s->phase == PlayPhase::kRebuffering) {
      EnterPhase(s, PlayPhase::kPlaying, t);
    } else if (s->phase == PlayPhase::kPlaying && m.duration_ms > 0) {
      // The start was lost (other batch dropped, or the SDK only reports the end).
      ++s->rebuffer_count;
      s->rebuffer_ns += static_cast<uint64_t>(m.duration_ms * 1e6);
    }
  } else if (name == "seek_started") {
    if (s->first_frame_ns != 0 && s->phase != PlayPhase::kEnded &&
        s->phase != PlayPhase::kSeeking)
      EnterPhase(s, PlayPhase::kSeeking, t);
  } else if (name == "seek_ended") {
    if (s->phase == PlayPhase::kSeeking) EnterPhase(s, PlayPhase::kPlaying, t);
  } else if (name == "playback_paused") {
    if (s->phase == PlayPhase::kPlaying || s->phase == PlayPhase::kRebuffering)
      EnterPhase(s, PlayPhase::kPaused, t);
  } else if (name == "playback_resumed") {
    if (s->phase == PlayPhase::kPaused) EnterPhase(s, PlayPhase::kPlaying, t);
  } else if (name == "bitrate_switch") {
    if (m.bitrate_kbps > 0) {
      SetBitrate(s, static_cast<uint64_t>(std::llround(m.bitrate_kbps)), t);
    } else {
      ++s->bitrate_switches_unknown;
    }
  } else if (name == "playback_error") {
    ++s->error_count;
    if (m.fatal || m.webrtc_error) Fatal(s, t);
  } else if (name == "dropped_frames") {
    if (m.count > 0) s->dropped_frames_delta += static_cast<uint64_t>(m.count);
  } else if (name == "metrics_sampled" || name == "webrtc_stats") {
    if (m.dropped_frames >= 0)
      s->dropped_frames_absolute =
          std::max(s->dropped_frames_absolute, static_cast<uint64_t>(m.dropped_frames));
  } else if (name == "session_ended") {
    EnterPhase(s, PlayPhase::kEnded, t);
    s->ended = true;
  }

  // CMCD keys, whatever the event name.
  if (m.br > 0) SetBitrate(s, static_cast<uint64_t>(std::llround(m.br)), t);
  if (m.has_sta) ApplyCmcdState(s, m.sta, t);
  if (m.bs == 1 && !m.has_sta && s->phase == PlayPhase::kPlaying) ++s->rebuffer_count;
  if (m.msd >= 0 && s->reported_startup_ms < 0) s->reported_startup_ms = static_cast<int64_t>(m.msd);
  if (m.has_ec && !m.has_sta) ++s->error_count;
  if (m.dfa >= 0)
    s->dropped_frames_absolute = std::max(s->dropped_frames_absolute, static_cast<uint64_t>(m.dfa));
  if (m.bsa >= 0)
    s->cmcd_starvations_absolute = std::max(s->cmcd_starvations_absolute, static_cast<uint64_t>(m.bsa));
  if (m.bsda >= 0)
    s->cmcd_starvation_ms_absolute =
        std::max(s->cmcd_starvation_ms_absolute, static_cast<uint64_t>(m.bsda));
}

void QoeCalculator::Finish(QoeState* s) {
  EnterPhase(s, PlayPhase::kEnded, s->last_event_ns);
  s->ended = true;
}

QoeSummary QoeCalculator::Summarize(const QoeState& in) {
  // Summarize a copy closed at the last event, so open intervals count up to now.
  QoeState s = in;
  if (s.phase != PlayPhase::kEnded) EnterPhase(&s, PlayPhase::kEnded, s.last_event_ns);
  QoeSummary q;
  if (s.first_frame_ns != 0 && s.play_intent_ns != 0 && s.first_frame_ns >= s.play_intent_ns) {
    q.has_startup = true;
    q.startup_ms = (s.first_frame_ns - s.play_intent_ns) / 1e6;
  } else if (s.reported_startup_ms >= 0) {
    q.has_startup = true;
    q.startup_ms = static_cast<double>(s.reported_startup_ms);
  } else if (s.first_frame_ns != 0) {
    q.has_startup = true;
    q.startup_ms = Since(s.first_event_ns, s.first_frame_ns) / 1e6;
  }
  q.rebuffer_count = std::max(s.rebuffer_count, s.cmcd_starvations_absolute);
  q.rebuffer_ms = std::max(s.rebuffer_ns / 1e6, static_cast<double>(s.cmcd_starvation_ms_absolute));
  if (s.first_frame_ns != 0) {
    double span_ms = Since(s.first_frame_ns, s.phase_since_ns) / 1e6;
    q.playing_ms = std::max(0.0, span_ms - (s.rebuffer_ns + s.seek_ns + s.paused_ns) / 1e6);
  }
  double denom = q.playing_ms + q.rebuffer_ms;
  q.rebuffer_ratio = denom > 0 ? q.rebuffer_ms / denom : 0;
  q.video_start_failure = s.fatal_before_start;
  q.playback_failure = s.fatal_after_start;
  q.exit_before_video_start = in.ended && s.first_frame_ns == 0 && !s.fatal_before_start;
  q.error_count = s.error_count;
  q.bitrate_switches_up = s.bitrate_switches_up;
  q.bitrate_switches_down = s.bitrate_switches_down;
  if (s.bitrate_time_us > 0) {
    q.has_avg_bitrate = true;
    q.avg_bitrate_kbps = static_cast<double>(s.bitrate_kbps_us) / s.bitrate_time_us;
  } else if (s.current_bitrate_kbps > 0) {
    q.has_avg_bitrate = true;  // a bitrate is known but no playing time passed yet
    q.avg_bitrate_kbps = static_cast<double>(s.current_bitrate_kbps);
  }
  q.dropped_frames = s.dropped_frames_delta + s.dropped_frames_absolute;
  if (s.first_frame_ns != 0 || q.video_start_failure) {
    q.has_score = true;
    if (q.video_start_failure) {
      q.score = 0;
    } else {
      double startup_s = q.has_startup ? q.startup_ms / 1000.0 : 0;
      double s_startup = 8.0 / (8.0 + startup_s);
      double s_rebuffer = 1.0 / (1.0 + 10.0 * q.rebuffer_ratio + 0.1 * q.rebuffer_count);
      double score = 100.0 * (0.4 * s_startup + 0.6 * s_rebuffer);
      if (q.playback_failure) score *= 0.5;
      q.score = std::round(std::clamp(score, 0.0, 100.0) * 10) / 10;
    }
  }
  return q;
}

}  // namespace avtrace::player
