#include "store/store.h"

#include "store/sqlite/sqlite_store.h"

namespace sluice {

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (!options.url.empty()) {
    return InvalidArgument("only the embedded store is built in so far; unsupported store url: " +
                               options.url,
                           "store");
  }
  return SqliteStore::Open(options);
}

}  // namespace sluice
