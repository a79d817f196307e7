// What the next audit record links to (store/audit_records.h), for both ways records join the
// chain: the PostgreSQL sealer (sql_audit.cc) and the SQLite flush (sqlite/sqlite_dialect.cc).
#pragma once

#include "core/status.h"
#include "store/audit_records.h"
#include "store/sql/session.h"

namespace sluice::sql {

// The newest record, else the anchor retention left, else the genesis.
Result<AuditAnchor> AuditChainHead(Session& session);

}  // namespace sluice::sql
