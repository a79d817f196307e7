// Fair share and retention (store.h "Fair share and retention").
#include "store/sql/sql_store.h"

namespace sluice::sql {

namespace {
Status NotYet() { return Status(StatusCode::kInternal, "not implemented yet"); }
}  // namespace

Result<PurgeCounts> SqlStore::purge_finished(Millis, int) { return NotYet(); }
Result<bool> SqlStore::blob_referenced(const std::string&, const std::string&) {
  return NotYet();
}

}  // namespace sluice::sql
