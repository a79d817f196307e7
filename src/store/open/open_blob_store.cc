#include "store/open/open_blob_store.h"

#include "blobs/file_blob_store.h"
#include "store/postgres/postgres_blob_store.h"

namespace sluice {

Result<std::unique_ptr<BlobStore>> OpenBlobStore(const StoreOptions& options, const Clock& clock) {
  std::unique_ptr<BlobStore> blobs;
  if (options.url.empty()) {
    blobs = std::make_unique<FileBlobStore>(options.data_dir + "/blobs");
  } else if (options.url.starts_with("postgres://") || options.url.starts_with("postgresql://")) {
    blobs = std::make_unique<PostgresBlobStore>(options, clock);
  } else {
    return InvalidArgument(
        "unsupported store url (want postgres://... or postgresql://...): " + options.url, "store");
  }
  RETURN_IF_ERROR(blobs->Init());
  return blobs;
}

}  // namespace sluice
