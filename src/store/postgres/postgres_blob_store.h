// The shared blob engine: blobs as rows of the shared PostgreSQL database (table `blobs`,
// migration 3; keyed by (tenant, id) since migration 7), so a blob uploaded to any node of a
// cluster is readable on every node.
//
// Content travels as binary parameters and results (no escaping, NUL bytes included). put
// renews the tenant's row when it is there (so the content crosses the wire only for a new
// blob), else INSERT ... ON CONFLICT DO NOTHING: two nodes taking the same bytes at once store
// one row, and each reports the id. A blob's age is created_at, which put and renew move to
// now; remove is one DELETE whose WHERE re-checks it, and a renew running at the same time
// either commits first (the DELETE, re-reading the row after the renew's lock, keeps it) or
// finds no row. Like the job store, a call that fails with kUnavailable (a broken connection, a
// restarting server) is tried once more on a fresh connection; every call is idempotent, so
// running it twice is safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

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
  Result<BlobInfo> put(std::string_view tenant, std::string_view content) override;
  Result<std::string> get(std::string_view tenant, std::string_view id) const override;
  Result<bool> exists(std::string_view tenant, std::string_view id) const override;
  Result<bool> renew(std::string_view tenant, std::string_view id) override;
  Result<std::vector<BlobKey>> list_older(Millis before, const BlobKey& after,
                                          int limit) const override;
  Result<bool> remove(std::string_view tenant, std::string_view id, Millis before) override;

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
