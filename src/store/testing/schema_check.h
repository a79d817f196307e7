// Holds an engine's migrated schema to the column tables (sql/columns.h): every table the core
// maps has exactly the columns its table names (plus its stored-only ones), with their types.
// Tests run it on both engines (sqlite_store_test.cc, postgres_store_test.cc), so neither
// engine's migrations can drift from the one mapping unseen.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/sql/session.h"

namespace sluice::sql {

// One line per difference ("jobs.due_at: missing", "jobs.x: not in the column table",
// "jobs.priority: INTEGER, the table says TEXT"); empty when the schema matches. Reads the
// catalogue of the session's engine (SQLite's table_info, PostgreSQL's information_schema).
Result<std::vector<std::string>> SchemaMismatches(Session& session);

}  // namespace sluice::sql
