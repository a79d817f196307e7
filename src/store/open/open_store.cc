// Store::Open: the one place that knows both engines, in a library of its own
// (sluice_store_open), so that code using only the Store interface links neither.
#include <string_view>

#include "store/postgres/postgres_dialect.h"
#include "store/sql/sql_store.h"
#include "store/sqlite/sqlite_dialect.h"
#include "store/store.h"

namespace sluice {

namespace {

bool IsPostgresUrl(std::string_view url) {
  return url.starts_with("postgres://") || url.starts_with("postgresql://");
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::unique_ptr<sql::Dialect> dialect;
  if (options.url.empty()) {
    ASSIGN_OR_RETURN(dialect, sqlite::SqliteDialect::Open(options));
  } else if (IsPostgresUrl(options.url)) {
    ASSIGN_OR_RETURN(dialect, pg::PostgresDialect::Open(options));
  } else {
    return InvalidArgument(
        "unsupported store url (want postgres://... or postgresql://...): " + options.url,
        "store");
  }
  return std::unique_ptr<Store>(std::make_unique<sql::SqlStore>(std::move(dialect), options.audit));
}

}  // namespace sluice
