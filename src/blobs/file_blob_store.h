// The embedded blob engine: files under <dir>/<2 hex>/<hex>, for one node with a local data
// dir. Each blob is written to a temp file, fsynced and renamed, so a crash never leaves a half
// blob under a valid id.
#pragma once

#include <string>
#include <string_view>

#include "blobs/blob_store.h"

namespace sluice {

class FileBlobStore final : public BlobStore {
 public:
  explicit FileBlobStore(std::string dir) : dir_(std::move(dir)) {}
  Status Init() override;
  Result<BlobInfo> put(std::string_view content) override;
  Result<std::string> get(std::string_view id) const override;
  Result<bool> exists(std::string_view id) const override;

 private:
  std::string PathFor(std::string_view id) const;
  std::string dir_;
};

}  // namespace sluice
