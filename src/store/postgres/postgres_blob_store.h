// The shared blob engine: blobs as rows of the shared PostgreSQL database (table `blobs`,
// migration 3), so a blob uploaded to any node of a cluster is readable on every node.
//
// Content travels as binary parameters and results (no escaping, NUL bytes included). put is
// INSERT ... ON CONFLICT DO NOTHING: two nodes taking the same bytes at once store one row, and
// each reports the id. Like the job store, a call that fails with kUnavailable (a broken
// connection, a restarting server) is tried once more on a fresh connection; every call is one
// idempotent statement, so running it twice is safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "blobs/blob_store.h"
#include "core/time.h"
#include "store/postgres/pool.h"
#include "store/store.h"

namespace sluice {

class PostgresBlobStore final : public BlobStore {
 public:
  // Connects lazily: nothing is opened before Init. `clock` stamps created_at and must outlive
  // the store.
  PostgresBlobStore(const StoreOptions& options, const Clock& clock);

  // Connects and applies missing migrations (the blobs table), as the store's Open does:
  // kUnavailable when the server cannot be reached.
  Status Init() override;
  Result<BlobInfo> put(std::string_view content) override;
  Result<std::string> get(std::string_view id) const override;
  Result<bool> exists(std::string_view id) const override;

 private:
  // Runs `body(pg::Connection&) -> Result<T>` on a pooled connection, once more on kUnavailable.
  template <typename Body>
  auto run(Body&& body) const -> decltype(body(std::declval<pg::Connection&>()));

  const Clock& clock_;
  mutable pg::ConnectionPool pool_;
};

template <typename Body>
auto PostgresBlobStore::run(Body&& body) const -> decltype(body(std::declval<pg::Connection&>())) {
  for (int round = 1;; ++round) {
    ASSIGN_OR_RETURN(pg::ConnectionPool::Lease lease, pool_.acquire());
    auto result = body(lease.conn());
    if (result.ok() || result.status().code() != StatusCode::kUnavailable || round == 2) {
      return result;
    }
  }
}

}  // namespace sluice
