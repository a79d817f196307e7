// The embedded blob engine: files for one node with a local data dir. Each blob is written to a
// temp file, fsynced and renamed, so a crash never leaves a half blob under a valid id.
//
// Layout (a persistent format: change it only with a reader for the old one):
//   <dir>/<2 hex>/<64 hex>                    the tenant "default" (the layout from before
//                                             tenants, so existing data dirs keep working)
//   <dir>/tenants/<tenant>/<2 hex>/<64 hex>   every other tenant
// "tenants" is no 2-hex name, so the two never meet. A tenant id that is not
// [a-z0-9][a-z0-9_-]{0,63} names no directory at all (no "..", no "/"): its blobs are invalid.
//
// A blob's age is its file's mtime: put and renew set it to now. remove renames the file to
// "<64 hex>.gc" first, so that from then on exists() and renew() find nothing, then reads the
// age from the renamed file (the same inode: a renew that came before the rename shows) and
// puts the file back when it was renewed. get() still reads a ".gc" file, so a reader never
// misses a blob that is only passing through that check; a crash between the rename and the
// unlink leaves a ".gc" file that the next list_older puts back and judges afresh.
#pragma once

#include <string>
#include <functional>
#include <string_view>
#include <vector>

#include "blobs/blob_store.h"

namespace sluice {

class FileBlobStore final : public BlobStore {
 public:
  // Makes a directory's entries durable (fsync of the directory itself): after a rename into
  // it, after a new directory in it. The seam for a test that counts the syncs.
  using DirSync = std::function<Status(const std::string& dir)>;
  // fsync(2) of `dir` opened O_DIRECTORY; kUnavailable when it cannot be opened or synced.
  static Status SyncDirectory(const std::string& dir);

  explicit FileBlobStore(std::string dir, DirSync sync_dir = &FileBlobStore::SyncDirectory)
      : dir_(std::move(dir)), sync_dir_(std::move(sync_dir)) {}
  Status Init() override;
  Result<BlobInfo> put(std::string_view tenant, std::string_view content) override;
  Result<std::string> get(std::string_view tenant, std::string_view id) const override;
  Result<bool> exists(std::string_view tenant, std::string_view id) const override;
  Result<bool> renew(std::string_view tenant, std::string_view id) override;
  Result<std::vector<BlobKey>> list_older(Millis before, const BlobKey& after,
                                          int limit) const override;
  Result<bool> remove(std::string_view tenant, std::string_view id, Millis before) override;

 private:
  // The directory holding the tenant's prefix directories; empty for an invalid tenant id.
  std::string TenantRoot(std::string_view tenant) const;
  // The file of a valid id of a valid tenant; empty when either is invalid.
  std::string PathFor(std::string_view tenant, std::string_view id) const;
  // The tenants that may have blobs, in order: "default" and each valid name under tenants/.
  Result<std::vector<std::string>> Tenants() const;
  // create_directories, then a sync of the parent of each directory it made, top down: a power
  // cut must not take away the directory of a blob whose id was already answered.
  Status CreateDirectories(const std::string& dir) const;
  std::string dir_;
  DirSync sync_dir_;
};

}  // namespace sluice
