#include "ingest/session_events.h"

#include "metrics/registry.h"
#include "player/text.h"

namespace avtrace::ingest {

SessionEvents::SessionEvents(SessionEventsOptions options, metrics::Registry* registry)
    : opts_(options) {
  if (registry) {
    dropped_ = &registry->Counter("avtrace_api_sse_dropped_clients_total",
                                  "SSE clients disconnected because their queue overflowed", {});
    gauge_ = &registry->Gauge("avtrace_api_sse_clients", "Open SSE streams", {});
  }
  heartbeat_ = std::thread([this] { HeartbeatLoop(); });
}

SessionEvents::~SessionEvents() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  heartbeat_.join();
}

std::string SessionEvents::Frame(const otlp::PlaybackEvent& e) {
  const std::string seq = std::to_string(e.ingest_sequence);
  std::string f = "id: " + seq + "\nevent: event_appended\ndata: {\"project_id\":";
  player::AppendJsonString(&f, e.project_id);
  f += ",\"session_id\":";
  player::AppendJsonString(&f, e.session_id);
  f += ",\"ingest_sequence\":" + seq + ",\"event_name\":";
  player::AppendJsonString(&f, e.event_name);
  if (e.time_skew_warning) f += ",\"time_skew_warning\":true";
  f += "}\n\n";
  return f;
}

uint64_t SessionEvents::Subscribe(std::string project_id, std::shared_ptr<StreamWriter> writer,
                                  bool backfilling) {
  uint64_t id = 0;
  {
    std::lock_guard lock(mu_);
    if (subs_.size() >= opts_.max_subscribers) return 0;
    id = next_id_++;
    auto sub = std::make_shared<Sub>();
    sub->project_id = std::move(project_id);
    sub->writer = writer;
    sub->backfilling = backfilling;
    subs_.emplace(id, std::move(sub));
    if (gauge_) gauge_->Set(static_cast<double>(subs_.size()));
  }
  // Outside the lock: runs at once if the writer closed already.
  writer->OnClose([this, id] { Unsubscribe(id); });
  return id;
}

void SessionEvents::Unsubscribe(uint64_t id) {
  std::shared_ptr<Sub> gone;  // released outside the lock
  std::lock_guard lock(mu_);
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  gone = std::move(it->second);
  subs_.erase(it);
  if (gauge_) gauge_->Set(static_cast<double>(subs_.size()));
}

void SessionEvents::Drop(uint64_t id, const std::shared_ptr<StreamWriter>& writer) {
  if (dropped_) dropped_->Increment();
  Unsubscribe(id);
  writer->Close();
}

void SessionEvents::FinishBackfill(uint64_t id, uint64_t last_sent) {
  std::shared_ptr<StreamWriter> writer;
  std::string out;
  {
    std::lock_guard lock(mu_);
    auto it = subs_.find(id);
    if (it == subs_.end()) return;
    Sub& s = *it->second;
    for (auto& [seq, frame] : s.buffered) {
      if (seq > last_sent) out += frame;
    }
    s.buffered.clear();
    s.backfilling = false;
    writer = s.writer;
  }
  if (!out.empty() && !writer->Write(std::move(out)) && !writer->closed()) Drop(id, writer);
}

void SessionEvents::Publish(std::span<otlp::Batch* const> batches) {
  // Frames per project, in commit order.
  std::map<std::string, std::vector<std::pair<uint64_t, std::string>>, std::less<>> frames;
  for (const otlp::Batch* b : batches) {
    for (const otlp::PlaybackEvent& e : b->playback_events) {
      if (e.ingest_sequence == 0) continue;
      auto it = frames.find(e.project_id);
      if (it == frames.end()) it = frames.emplace(std::string(e.project_id), decltype(it->second){}).first;
      it->second.emplace_back(e.ingest_sequence, Frame(e));
    }
  }
  if (frames.empty()) return;
  std::vector<std::pair<uint64_t, std::shared_ptr<Sub>>> targets;
  std::vector<std::pair<uint64_t, std::shared_ptr<StreamWriter>>> overflow;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, sub] : subs_) {
      auto it = frames.find(sub->project_id);
      if (it == frames.end()) continue;
      if (sub->backfilling) {
        if (sub->buffered.size() + it->second.size() > opts_.backfill_buffer) {
          overflow.emplace_back(id, sub->writer);
          continue;
        }
        sub->buffered.insert(sub->buffered.end(), it->second.begin(), it->second.end());
        continue;
      }
      targets.emplace_back(id, sub);
    }
  }
  for (auto& [id, sub] : targets) {
    for (auto& [seq, frame] : frames.find(sub->project_id)->second) {
      if (!sub->writer->Write(frame)) {
        if (!sub->writer->closed()) overflow.emplace_back(id, sub->writer);
        break;
      }
    }
  }
  for (auto& [id, writer] : overflow) Drop(id, writer);
}

void SessionEvents::Heartbeat() {
  std::vector<std::pair<uint64_t, std::shared_ptr<StreamWriter>>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, sub] : subs_) all.emplace_back(id, sub->writer);
  }
  for (auto& [id, writer] : all) {
    if (!writer->Write(": heartbeat\n\n") && !writer->closed()) Drop(id, writer);
  }
}

void SessionEvents::HeartbeatLoop() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(opts_.heartbeat_ms));
    if (stop_) break;
    lock.unlock();
    Heartbeat();
    lock.lock();
  }
}

size_t SessionEvents::subscribers() const {
  std::lock_guard lock(mu_);
  return subs_.size();
}

}  // namespace avtrace::ingest
