// Content-addressed storage for large inputs: a blob's id is "sha256:<hex>" of its bytes, so a
// second upload of the same content is free and a job row only carries the id.
//
// Two engines: FileBlobStore (blobs/file_blob_store.h) keeps files under the data dir for one
// embedded node; PostgresBlobStore (store/postgres/postgres_blob_store.h) keeps them in the
// shared database, so every node of a cluster sees every blob. OpenBlobStore
// (store/open/open_blob_store.h) picks the one that goes with the job store.
//
// Contract of every engine:
// - Blobs are content-addressed per tenant: the same bytes put by two tenants are two blobs,
//   and a tenant's get/exists never finds a blob only another tenant put (API.md "Isolation":
//   another tenant's id answers 404, exactly as an unknown one).
// - put is idempotent (the same bytes give the same id; a second put stores nothing and reports
//   created=false) and a blob is readable once put returned.
// - Blobs never change. Retention (retention/retention_runner.h) removes a blob once it is older
//   than its window and no remaining job refers to it. A blob's age runs from its last put or
//   renew, and remove re-checks that age atomically with the delete: a submit renews the blob it
//   names before its job (and the job's reference) commits, so a removal racing with that submit
//   either sees the fresh age and keeps the blob, or happened first and the submit's renew finds
//   no blob and refuses the job (retention_runner.h has the whole argument).
// Thread-safe.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "core/time.h"

namespace sluice {

struct BlobInfo {
  std::string id;  // "sha256:<64 hex>"
  std::int64_t bytes = 0;
  bool created = false;  // false when the content was already stored
};

// Where a blob is: its tenant and id. Listings go in this order (tenant, then id).
struct BlobKey {
  std::string tenant;
  std::string id;
  auto operator<=>(const BlobKey&) const = default;
};

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Prepares the storage (creates the directory, the table). Call once before anything else.
  virtual Status Init() = 0;
  // Stores `content` as a blob of `tenant` under its id, or renews the blob when it is already
  // stored. kUnavailable when the storage cannot take it now (disk full, database unreachable):
  // the client may retry.
  virtual Result<BlobInfo> put(std::string_view tenant, std::string_view content) = 0;
  // The bytes of the tenant's blob `id`. kInvalidArgument for a malformed id, kNotFound for an
  // unknown one (another tenant's included), kUnavailable when the storage cannot be read now.
  virtual Result<std::string> get(std::string_view tenant, std::string_view id) const = 0;
  // Whether `id` is valid and stored for `tenant`; kUnavailable when the storage cannot be read
  // now (so a submit during an outage answers 503, not "no such blob").
  virtual Result<bool> exists(std::string_view tenant, std::string_view id) const = 0;

  // Retention

  // exists(), and when the blob is stored its age starts again now. A submit that refers to a
  // blob calls this instead of exists(), before its job commits.
  virtual Result<bool> renew(std::string_view tenant, std::string_view id) = 0;
  // Blobs last put or renewed before `before`, in (tenant, id) order after `after` (an empty
  // key: from the first), at most `limit`. Page on with the last key returned.
  virtual Result<std::vector<BlobKey>> list_older(Millis before, const BlobKey& after,
                                                  int limit) const = 0;
  // Deletes the tenant's blob if it was still last put or renewed before `before` at the moment
  // of the delete. True when it deleted it; false when the blob was renewed since or is gone.
  virtual Result<bool> remove(std::string_view tenant, std::string_view id, Millis before) = 0;

  // "sha256:" + 64 lowercase hex: the only ids that are ever valid.
  static bool IsValidId(std::string_view id);
  // The id of `content`: "sha256:" + Sha256Hex(content).
  static std::string IdOf(std::string_view content);
};

std::string Sha256Hex(std::string_view data);

}  // namespace sluice
