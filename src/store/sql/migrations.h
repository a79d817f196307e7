// The versioned schema's runner, for both engines: each engine lists its migrations (the DDL,
// which is where the engines differ) and the core applies the ones a database lacks.
//
// THE RULE FOR CHANGING THE FORMAT (both engines' migrations.cc): a list is append only. A
// migration that has shipped is never edited, reordered or removed, because databases in the
// field already ran it and record only its number. Migration N makes the same change to both
// engines, so "schema version N" means one shape of the data everywhere.
#pragma once

#include <span>

#include "core/status.h"
#include "store/sql/session.h"

namespace sluice::sql {

struct Migration {
  int version;
  const char* sql;
};

// What differs in how an engine applies its list.
struct MigrationSteps {
  const char* begin;         // opens the one transaction every migration runs in
  const char* lock;          // serializes concurrent starts (nullptr: the begin does)
  const char* create_table;  // schema_migrations, if missing
};

// Applies the migrations the database lacks, all in one transaction, and records each in
// schema_migrations. Every listed migration not recorded yet runs, in list order, even one
// numbered below the newest recorded: changes made on parallel branches may land out of order.
// kFailedPrecondition when the database was written by a newer build (it holds a version this
// build does not know): running on would misread it.
Status ApplyMigrations(Session& session, std::span<const Migration> migrations,
                       const MigrationSteps& steps);

}  // namespace sluice::sql
