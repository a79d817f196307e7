// Fair share (store.h "Fair share and retention"): which tenants a queue's claim would serve
// now, so that the scheduler can split the queue's slots between them (scheduler/fair_share.h).
#include "store/sql/sql_store.h"
#include "store/sql/statements.h"

namespace sluice::sql {

Result<std::vector<std::string>> SqlStore::due_tenants(const std::string& queue, Millis now,
                                                       int limit) {
  using Tenants = std::vector<std::string>;
  if (limit <= 0) return Tenants();
  return read<Tenants>([&](Session& session) -> Result<Tenants> {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows,
                     session.query(Sql().due_tenants, Params().add(queue).add(now).add(limit)));
    return Collect<std::string>(*rows, [](const Row& row) { return row.text_at(0); });
  });
}

}  // namespace sluice::sql
