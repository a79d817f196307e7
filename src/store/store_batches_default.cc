// The defaults of the Store's files-and-batches methods (store.h): engines override every one;
// a store that keeps no files or batches (a test double of the job contract) answers kInternal.
#include "store/store.h"

namespace sluice {

namespace {

Status NoBatches() { return Internal("this store keeps no files or batches"); }

}  // namespace

Status Store::create_file(const StoredFile&) {
  return NoBatches();
}

Status Store::put_file_chunk(const std::string&, std::int64_t, std::string_view) {
  return NoBatches();
}

Status Store::complete_file(const std::string&, std::int64_t) {
  return NoBatches();
}

Status Store::delete_file(const std::string&) {
  return NoBatches();
}

Result<StoredFile> Store::get_file(const std::string&, const std::string&) {
  return NoBatches();
}

Result<std::optional<std::string>> Store::get_file_chunk(const std::string&, std::int64_t) {
  return NoBatches();
}

Status Store::create_batch(const Batch&) {
  return NoBatches();
}

Result<Batch> Store::get_batch(const std::string&, const std::string&) {
  return NoBatches();
}

Result<BatchPage> Store::list_batches(const std::string&, int, const std::string&) {
  return NoBatches();
}

Result<Batch> Store::transition_batch(const BatchTransition&) {
  return NoBatches();
}

Result<std::optional<Batch>> Store::lease_batch_work(const std::string&, Millis, Millis) {
  return NoBatches();
}

Result<BatchChunkOutcome> Store::ingest_batch_chunk(const BatchChunk&) {
  return NoBatches();
}

Result<std::vector<Batch>> Store::open_batches(int) {
  return NoBatches();
}

Result<BatchProgress> Store::batch_progress(const std::string&) {
  return NoBatches();
}

Result<int> Store::cancel_batch_jobs(const std::string&, Millis, int) {
  return NoBatches();
}

Result<std::vector<BatchJobRow>> Store::batch_jobs(const std::string&, const std::string&, int) {
  return NoBatches();
}

Result<std::vector<BatchLineError>> Store::batch_line_errors(const std::string&, std::int64_t, int) {
  return NoBatches();
}

}  // namespace sluice
