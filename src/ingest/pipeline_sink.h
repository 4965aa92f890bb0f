#pragma once
// PipelineSink: the production BatchSink (otlp_http.h), forwarding to pipeline::Pipeline.
// Kept apart from the receiver so the receiver's tests need no pipeline.
//
// Ownership: borrows `pipeline`, which must outlive the sink. Threads: as Pipeline (thread-safe).

#include "ingest/otlp_http.h"
#include "pipeline/pipeline.h"

namespace avtrace::ingest {

class PipelineSink final : public BatchSink {
 public:
  explicit PipelineSink(pipeline::Pipeline* pipeline) : pipeline_(pipeline) {}
  Status Submit(otlp::Batch batch, otlp::Signal signal, Done done) override;
  uint32_t RetryAfterSeconds() const override;

 private:
  pipeline::Pipeline* pipeline_;
};

}  // namespace avtrace::ingest
