#include "store/store.h"

#include <string_view>

#include "store/postgres/postgres_store.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice {

namespace {

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.url.empty()) return SqliteStore::Open(options);
  if (IsPostgresUrl(options.url)) return PostgresStore::Open(options);
  return InvalidArgument(
      "unsupported store url (want postgres://... or postgresql://...): " + options.url, "store");
}

}  // namespace sluice
