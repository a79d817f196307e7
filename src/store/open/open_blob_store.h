// Picks the blob engine that goes with the job store (blobs/blob_store.h): a shared PostgreSQL
// store keeps its blobs in the same database, so every node sees them; the embedded store keeps
// them as files under <data_dir>/blobs.
#pragma once

#include <memory>

#include "blobs/blob_store.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice {

// Opens and initializes (BlobStore::Init) the blob engine for `options`: PostgreSQL for a
// postgres:// url, files under options.data_dir + "/blobs" when the url is empty.
// kInvalidArgument for another url; Init's failure otherwise. `clock` must outlive the result.
Result<std::unique_ptr<BlobStore>> OpenBlobStore(const StoreOptions& options, const Clock& clock);

}  // namespace sluice
