#include "ingest/pipeline_sink.h"

namespace avtrace::ingest {

Status PipelineSink::Submit(otlp::Batch batch, otlp::Signal signal, Done done) {
  return pipeline_->Submit(std::move(batch), signal, std::move(done));
}

uint32_t PipelineSink::RetryAfterSeconds() const { return pipeline_->RetryAfterSeconds(); }

}  // namespace avtrace::ingest
