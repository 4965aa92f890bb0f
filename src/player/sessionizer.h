#pragma once
// Sessionizer: the playback-session state machine of m-trace (sessions_sweeper.go and the
// session upsert), plus dedup, correlation ids, sample rates and QoE.
//
//   first event of (project, session) -> active, event_count = 1, a fresh UUIDv4 correlation id
//   every event                        -> last_event_at = server time, event_count += 1 (also
//                                         after the session ended, as in m-trace)
//   session_ended (or CMCD sta=e/q)    -> ended, end_source = client (idempotent)
//   Sweep(): active idle >= 60 s       -> stalled; stalled/active idle >= 5 min -> ended,
//                                         end_source = sweeper. Stalled is never reactivated.
//   dedup: (project, session, sequence_number) seen before -> delivery_status
//          duplicate_suspected (still stored and counted as accepted); no sequence number ->
//          accepted. Exact, for the first max_sequence_numbers distinct numbers of a session
//          (later ones are not remembered); kept as runs of consecutive numbers (SequenceSet),
//          so a session numbered 0..n-1 costs one 16-byte run.
//   sampling: the first session_sample_rate < 1 is stored once as ppm; a later value more than
//          100 ppm away counts avtrace_player_sample_rate_drift_total (never overwrites).
//
// Persistence: SessionState is a plain struct the store saves and loads. Apply() and Sweep()
// return the sessions they changed; the store persists those in the same transaction as the
// events. A session not in memory is asked of the Loader (the store) before it is created, so a
// restarted server continues sessions instead of duplicating them. Memory is bounded by
// max_sessions: ended sessions are evicted first (then the least recently seen); an evicted
// session comes back through the Loader. The dedup numbers are not part of the state BLOB: the
// Loader (store) returns the sequence numbers of the session's latest events in
// seen_sequence_numbers, which the Sessionizer moves into its SequenceSet (the copies it hands
// out leave the field empty). About 0.6 KB of heap per session in memory (bench-shaped
// sessions; sessionizer_memory_test.cc).
//
// Threads: thread-safe (one mutex); meant to be called from the store's writer thread.
// Lifecycle: the Clock (and PlayerMetrics, if given) must outlive the Sessionizer.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "otlp/model.h"
#include "player/player_metrics.h"
#include "player/qoe.h"
#include "player/sequence_set.h"

namespace avtrace::player {

enum class SessionStatus : uint8_t { kActive = 0, kStalled = 1, kEnded = 2 };
enum class EndSource : uint8_t { kNone = 0, kClient = 1, kSweeper = 2 };
std::string_view SessionStatusName(SessionStatus s);  // active | stalled | ended
std::string_view EndSourceName(EndSource s);          // "" | client | sweeper

struct NetworkSignalAbsent {  // one session_boundaries entry, deduplicated per session
  std::string kind, adapter, reason;
  bool operator<(const NetworkSignalAbsent& o) const {
    return std::tie(kind, adapter, reason) < std::tie(o.kind, o.adapter, o.reason);
  }
  bool operator==(const NetworkSignalAbsent& o) const = default;
};

// Everything the store keeps per session (m-trace's stream_sessions row plus QoE).
struct SessionState {
  std::string project_id;
  std::string session_id;
  SessionStatus status = SessionStatus::kActive;
  EndSource end_source = EndSource::kNone;
  uint64_t started_at_unix_nanos = 0;     // server time of the first event
  uint64_t last_event_at_unix_nanos = 0;  // server time of the latest event
  uint64_t ended_at_unix_nanos = 0;       // 0: not ended
  uint64_t event_count = 0;
  std::string correlation_id;             // UUIDv4
  uint32_t sample_rate_ppm = 1'000'000;   // 1e6 = fully sampled (the default)
  std::vector<NetworkSignalAbsent> network_signal_absent;  // sorted, unique
  std::string sdk_name;                   // of the first event (label folding happens later)
  std::string protocol;                   // hls | dash | ... from meta protocol / cmcd.sf
  QoeState qoe;
  // Sequence numbers seen (for dedup); the store may reload them from its dedup index.
  std::vector<int64_t> seen_sequence_numbers;
};

struct SessionizerOptions {
  uint64_t stall_after_nanos = 60ull * 1'000'000'000ull;
  uint64_t end_after_nanos = 300ull * 1'000'000'000ull;
  size_t max_sessions = 100'000;            // in memory
  size_t max_sequence_numbers = 16'384;     // per session, for dedup
};

class Sessionizer {
 public:
  // Returns the stored session, if any (store lookup on a cache miss). May be empty.
  using Loader =
      std::function<std::optional<SessionState>(std::string_view project, std::string_view session)>;

  Sessionizer(const Clock* clock, SessionizerOptions options, Loader loader = {},
              PlayerMetrics* metrics = nullptr);

  // Puts sessions loaded at startup back into memory.
  void Restore(std::vector<SessionState> sessions);

  // Applies an accepted batch: sets each event's correlation_id (in the batch's arena) and
  // delivery_status, updates sessions, sample rates, boundaries and QoE. Appends every session
  // it changed to `changed` (once each).
  void Apply(otlp::Batch* batch, std::vector<SessionState>* changed);

  // The sweeper pass (m-trace runs it every 10 s). Appends changed sessions.
  void Sweep(std::vector<SessionState>* changed);

  std::optional<SessionState> Get(std::string_view project, std::string_view session) const;
  size_t ActiveCount() const;
  size_t Size() const;

 private:
  // One session in memory. The set's elements are keyed by (state.project_id, state.session_id),
  // which never change after insertion; everything else may be updated in place (mutable), so
  // the ids are stored once per session instead of once in a map key and again in the value.
  // state.seen_sequence_numbers is always empty here; dedup lives in `seen`.
  struct Entry {
    mutable SessionState state;
    mutable SequenceSet seen;
  };
  using KeyView = std::pair<std::string_view, std::string_view>;  // (project, session)
  struct KeyHash {
    using is_transparent = void;
    size_t operator()(const KeyView& k) const {
      return std::hash<std::string_view>()(k.first) * 31 ^ std::hash<std::string_view>()(k.second);
    }
    size_t operator()(const Entry& e) const {
      return (*this)(KeyView(e.state.project_id, e.state.session_id));
    }
  };
  struct KeyEq {
    using is_transparent = void;
    static KeyView View(const KeyView& k) { return k; }
    static KeyView View(const Entry& e) { return {e.state.project_id, e.state.session_id}; }
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      return View(a) == View(b);
    }
  };
  using Sessions = std::unordered_set<Entry, KeyHash, KeyEq>;

  const Entry* FindOrCreate(std::string_view project, std::string_view session, uint64_t now);
  void End(const Entry* e, EndSource source, uint64_t at);
  void EvictLocked();

  const Clock* clock_;
  SessionizerOptions options_;
  Loader loader_;
  PlayerMetrics* metrics_;
  mutable std::mutex mu_;
  Sessions sessions_;
  size_t active_ = 0;  // sessions_ in status active
};

}  // namespace avtrace::player
