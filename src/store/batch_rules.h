// The rules both engines apply the same way to batches: what a guarded status change may do and
// what it changes, which batches need a node's exclusive work, and the data of batch events.
// Engines differ in SQL (reading the row under a lock, writing it back), never in these.
#pragma once

#include <string>

#include "core/batch.h"
#include "core/status.h"
#include "store/batch_records.h"

namespace sluice::batch_rules {

// Checks `t` against the batch as stored and applies it to `batch`: kFailedPrecondition when
// the status is not one of t.from, kAborted when t.owner is set and does not hold the lease.
Status ApplyTransition(const BatchTransition& t, Batch& batch);

// A batch needs exclusive work while it is validating, not fully ingested (in_progress or
// cancelling), or finalizing; `owner` may take it when its lease is free or already its own.
bool NeedsExclusiveWork(const Batch& batch);
bool LeaseAvailable(const Batch& batch, const std::string& owner, Millis now);
// Nobody holds the lease, or it ran out: what lease_batch_work takes. Not even its own holder
// takes a live lease again, so a batch whose work keeps failing waits out its lease while
// the node works on others.
bool LeaseFree(const Batch& batch, Millis now);

// The ingestion chunk's guard: the batch is being ingested and `owner` holds it.
Status CheckIngestable(const BatchChunk& chunk, const Batch& batch);

// A fresh batch as create_batch stores it (status validating, nothing counted, no lease).
Status CheckCreatable(const Batch& batch);

}  // namespace sluice::batch_rules
