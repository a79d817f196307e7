// Content-addressed storage for large inputs: a blob's id is "sha256:<hex>" of its bytes, so a
// second upload of the same content is free and a job row only carries the id.
//
// Two engines: FileBlobStore (blobs/file_blob_store.h) keeps files under the data dir for one
// embedded node; PostgresBlobStore (store/postgres/postgres_blob_store.h) keeps them in the
// shared database, so every node of a cluster sees every blob. OpenBlobStore
// (store/open/open_blob_store.h) picks the one that goes with the job store.
//
// Contract of every engine: put is idempotent (the same bytes give the same id; a second put
// stores nothing and reports created=false) and a blob is readable once put returned. Blobs are
// never changed or deleted. Thread-safe.
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
  virtual ~BlobStore() = default;
  // Prepares the storage (creates the directory, the table). Call once before anything else.
  virtual Status Init() = 0;
  // Stores `content` under its id. kUnavailable when the storage cannot take it now (disk full,
  // database unreachable): the client may retry.
  virtual Result<BlobInfo> put(std::string_view content) = 0;
  // The bytes of blob `id`. kInvalidArgument for a malformed id, kNotFound for an unknown one,
  // kUnavailable when the storage cannot be read now.
  virtual Result<std::string> get(std::string_view id) const = 0;
  // Whether `id` is valid and stored; kUnavailable when the storage cannot be read now (so a
  // submit during an outage answers 503, not "no such blob").
  virtual Result<bool> exists(std::string_view id) const = 0;
  // "sha256:" + 64 lowercase hex: the only ids that are ever valid.
  static bool IsValidId(std::string_view id);
  // The id of `content`: "sha256:" + Sha256Hex(content).
  static std::string IdOf(std::string_view content);
};

std::string Sha256Hex(std::string_view data);

}  // namespace sluice
