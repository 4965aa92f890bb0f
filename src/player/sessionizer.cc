#include "player/sessionizer.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>

#include "player/text.h"

namespace avtrace::player {
namespace {

struct SessionMeta {
  double sample_rate = -1;
  std::string_view protocol;
};

// Reads the two session-level meta keys, only when the text mentions them.
void ReadSessionMeta(std::string_view meta, SessionMeta* out) {
  if (meta.find("session_sample_rate") == std::string_view::npos &&
      meta.find("protocol") == std::string_view::npos &&
      meta.find("cmcd.sf") == std::string_view::npos)
    return;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object obj;
  if (parser.parse(meta.data(), meta.size()).get_object().get(obj) != simdjson::SUCCESS) return;
  for (auto f : obj) {
    if (f.key == "session_sample_rate") {
      double d;
      if (f.value.get_double().get(d) == simdjson::SUCCESS) {
        out->sample_rate = d;
      } else {
        int64_t i;
        if (f.value.get_int64().get(i) == simdjson::SUCCESS) out->sample_rate = static_cast<double>(i);
      }
    } else if (f.key == "protocol" || f.key == "cmcd.sf") {
      std::string_view s;
      if (f.value.get_string().get(s) == simdjson::SUCCESS) out->protocol = s;
    }
  }
}

std::string NormalizeProtocol(std::string_view p) {
  return std::string(PlayerMetrics::ProtocolLabel(p));
}

}  // namespace

std::string_view SessionStatusName(SessionStatus s) {
  switch (s) {
    case SessionStatus::kActive: return "active";
    case SessionStatus::kStalled: return "stalled";
    case SessionStatus::kEnded: return "ended";
  }
  return "active";
}

std::string_view EndSourceName(EndSource s) {
  switch (s) {
    case EndSource::kNone: return "";
    case EndSource::kClient: return "client";
    case EndSource::kSweeper: return "sweeper";
  }
  return "";
}

Sessionizer::Sessionizer(const Clock* clock, SessionizerOptions options, Loader loader,
                         PlayerMetrics* metrics)
    : clock_(clock), options_(options), loader_(std::move(loader)), metrics_(metrics) {}

void Sessionizer::Restore(std::vector<SessionState> sessions) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& s : sessions) {
    SequenceSet seen;
    seen.InsertAll(s.seen_sequence_numbers.begin(), s.seen_sequence_numbers.end());
    s.seen_sequence_numbers = {};
    auto it = sessions_.find(KeyView(s.project_id, s.session_id));
    if (it == sessions_.end()) {
      it = sessions_.insert(Entry{std::move(s), std::move(seen)}).first;
    } else {  // same key: replace the value in place (as insert_or_assign did)
      it->seen = std::move(seen);
      it->state = std::move(s);
    }
    if (it->state.status == SessionStatus::kActive) ++active_;
  }
  if (metrics_) metrics_->SetActiveSessions(static_cast<double>(active_));
}

const Sessionizer::Entry* Sessionizer::FindOrCreate(std::string_view project,
                                                    std::string_view session, uint64_t now) {
  auto it = sessions_.find(KeyView(project, session));
  if (it != sessions_.end()) return &*it;
  Entry e;
  std::optional<SessionState> stored;
  if (loader_) stored = loader_(project, session);
  if (stored) {
    e.seen.InsertAll(stored->seen_sequence_numbers.begin(), stored->seen_sequence_numbers.end());
    stored->seen_sequence_numbers = {};
    e.state = std::move(*stored);
    if (e.state.correlation_id.empty()) e.state.correlation_id = NewUuidV4();  // legacy rows
  } else {
    e.state.project_id = std::string(project);
    e.state.session_id = std::string(session);
    e.state.status = SessionStatus::kActive;
    e.state.started_at_unix_nanos = now;
    e.state.correlation_id = NewUuidV4();
  }
  if (e.state.status == SessionStatus::kActive) ++active_;
  return &*sessions_.insert(std::move(e)).first;
}

void Sessionizer::End(const Entry* e, EndSource source, uint64_t at) {
  SessionState& s = e->state;
  if (s.status == SessionStatus::kEnded) return;  // idempotent
  if (s.status == SessionStatus::kActive) --active_;
  s.status = SessionStatus::kEnded;
  s.end_source = source;
  s.ended_at_unix_nanos = at;
  QoeCalculator::Finish(&s.qoe);
  if (metrics_) {
    metrics_->SessionEnded(EndSourceName(source));
    metrics_->RecordSessionQoe(s.project_id, s.sdk_name, s.protocol,
                               QoeCalculator::Summarize(s.qoe));
  }
}

void Sessionizer::Apply(otlp::Batch* batch, std::vector<SessionState>* changed) {
  const uint64_t clock_now = clock_->NowUnixNanos();
  std::lock_guard<std::mutex> lock(mu_);
  // Sessions touched by this batch, in first-seen order, with their arena correlation id.
  std::vector<std::pair<const Entry*, std::string_view>> touched;
  std::vector<bool> sample_rate_done;
  auto lookup = [&](std::string_view project, std::string_view session,
                    uint64_t now) -> size_t {
    for (size_t i = 0; i < touched.size(); ++i)
      if (touched[i].first->state.session_id == session &&
          touched[i].first->state.project_id == project)
        return i;
    const Entry* e = FindOrCreate(project, session, now);
    touched.emplace_back(e, batch->arena.Copy(e->state.correlation_id));
    sample_rate_done.push_back(false);
    return touched.size() - 1;
  };
  for (auto& ev : batch->playback_events) {
    const uint64_t now = ev.server_received_unix_nanos ? ev.server_received_unix_nanos : clock_now;
    size_t i = lookup(ev.project_id, ev.session_id, now);
    const Entry* e = touched[i].first;
    SessionState& s = e->state;
    ev.correlation_id = touched[i].second;
    s.event_count += 1;
    s.last_event_at_unix_nanos = std::max(s.last_event_at_unix_nanos, now);
    if (s.sdk_name.empty()) s.sdk_name.assign(ev.sdk_name);
    // Dedup on (project, session, sequence_number).
    ev.delivery_status = otlp::DeliveryStatus::kAccepted;
    if (ev.has_sequence_number) {
      if (e->seen.Contains(ev.sequence_number)) {
        ev.delivery_status = otlp::DeliveryStatus::kDuplicateSuspected;
      } else if (e->seen.size() < options_.max_sequence_numbers) {
        e->seen.Insert(ev.sequence_number);
      }
    }
    SessionMeta sm;
    if (!ev.meta_json.empty()) ReadSessionMeta(ev.meta_json, &sm);
    if (s.protocol.empty() && !sm.protocol.empty()) s.protocol = NormalizeProtocol(sm.protocol);
    // The first session_sample_rate of the session in this batch decides, as in m-trace.
    if (!sample_rate_done[i] && sm.sample_rate > 0) {
      sample_rate_done[i] = true;
      uint32_t ppm = static_cast<uint32_t>(
          std::clamp<double>(std::llround(sm.sample_rate * 1e6), 1.0, 1e6));
      if (ppm != 1'000'000) {
        if (s.sample_rate_ppm == 1'000'000) {
          s.sample_rate_ppm = ppm;
        } else if (std::abs(static_cast<int64_t>(s.sample_rate_ppm) - ppm) > 100 && metrics_) {
          metrics_->SampleRateDrift();
        }
      }
    }
    if (metrics_) {
      if (ev.event_name == "playback_error") metrics_->PlaybackError();
      if (ev.event_name == "rebuffer_started") metrics_->RebufferEvent();
    }
    // Duplicates do not feed QoE twice.
    if (ev.delivery_status != otlp::DeliveryStatus::kDuplicateSuspected)
      QoeCalculator::Feed(&s.qoe, ev.event_name, ev.client_unix_nanos, ev.meta_json);
    if (ev.event_name == "session_ended" || s.qoe.ended) End(e, EndSource::kClient, now);
  }
  for (const auto& sb : batch->session_boundaries) {
    size_t i = lookup(sb.project_id, sb.session_id, clock_now);
    auto& list = touched[i].first->state.network_signal_absent;
    // m-trace's read shape names the network kind (manifest | segment) under "kind".
    NetworkSignalAbsent n{std::string(sb.network_kind), std::string(sb.adapter),
                          std::string(sb.reason)};
    auto pos = std::lower_bound(list.begin(), list.end(), n);
    if (pos == list.end() || !(*pos == n)) list.insert(pos, std::move(n));
  }
  for (const auto& [e, cid] : touched) changed->push_back(e->state);
  if (sessions_.size() > options_.max_sessions) EvictLocked();
  if (metrics_) metrics_->SetActiveSessions(static_cast<double>(active_));
}

void Sessionizer::Sweep(std::vector<SessionState>* changed) {
  const uint64_t now = clock_->NowUnixNanos();
  std::lock_guard<std::mutex> lock(mu_);
  for (const Entry& e : sessions_) {
    SessionState& s = e.state;
    if (s.status == SessionStatus::kEnded) continue;
    uint64_t idle = now > s.last_event_at_unix_nanos ? now - s.last_event_at_unix_nanos : 0;
    if (idle >= options_.end_after_nanos) {
      End(&e, EndSource::kSweeper, now);
      changed->push_back(s);
    } else if (s.status == SessionStatus::kActive && idle >= options_.stall_after_nanos) {
      s.status = SessionStatus::kStalled;
      --active_;
      changed->push_back(s);
    }
  }
  if (sessions_.size() > options_.max_sessions) EvictLocked();
  if (metrics_) metrics_->SetActiveSessions(static_cast<double>(active_));
}

void Sessionizer::EvictLocked() {
  for (auto it = sessions_.begin(); it != sessions_.end() && sessions_.size() > options_.max_sessions;) {
    if (it->state.status == SessionStatus::kEnded) {
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  if (sessions_.size() <= options_.max_sessions) return;
  std::vector<std::pair<uint64_t, Sessions::const_iterator>> by_age;
  for (auto it = sessions_.cbegin(); it != sessions_.cend(); ++it)
    by_age.emplace_back(it->state.last_event_at_unix_nanos, it);
  size_t drop = sessions_.size() - options_.max_sessions;
  std::nth_element(by_age.begin(), by_age.begin() + static_cast<ptrdiff_t>(drop - 1), by_age.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Erasing one element leaves iterators to the others valid.
  for (size_t i = 0; i < drop; ++i) {
    auto it = by_age[i].second;
    if (it->state.status == SessionStatus::kActive) --active_;
    sessions_.erase(it);
  }
}

std::optional<SessionState> Sessionizer::Get(std::string_view project,
                                             std::string_view session) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(KeyView(project, session));
  if (it == sessions_.end()) return std::nullopt;
  return it->state;
}

size_t Sessionizer::ActiveCount() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

size_t Sessionizer::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

}  // namespace avtrace::player
