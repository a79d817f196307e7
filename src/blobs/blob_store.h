// Content-addressed storage for large inputs: a blob's id is "sha256:<hex>" of its bytes, so a
// second upload of the same content is free and a job row only carries the id. Embedded mode
// keeps files under <data_dir>/blobs/<2 hex>/<hex>; each is written to a temp file, fsynced
// and renamed, so a crash never leaves a half blob under a valid id.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace sluice {

struct BlobInfo {
  std::string id;  // "sha256:<64 hex>"
  std::int64_t bytes = 0;
  bool created = false;  // false when the content was already stored
};

class BlobStore {
 public:
  explicit BlobStore(std::string dir) : dir_(std::move(dir)) {}
  Status Init();
  Result<BlobInfo> put(std::string_view content);
  Result<std::string> get(std::string_view id) const;
  bool exists(std::string_view id) const;
  // "sha256:" + 64 lowercase hex: the only ids that are ever valid.
  static bool IsValidId(std::string_view id);

 private:
  std::string PathFor(std::string_view id) const;
  std::string dir_;
};

std::string Sha256Hex(std::string_view data);

}  // namespace sluice
