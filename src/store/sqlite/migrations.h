// The versioned schema of the embedded store and the code that brings a database up to date.
#pragma once

#include <span>

#include "core/status.h"
#include "store/sql/migrations.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

// Every migration, in version order (1, 2, 3, ...). See migrations.cc for the rule of change.
std::span<const sql::Migration> Migrations();

// Applies the migrations the database lacks, all in one transaction, and records each in
// schema_migrations. kFailedPrecondition when the database was written by a newer build (it
// holds a version this build does not know): running on would misread it.
Status ApplyMigrations(Connection& conn);

}  // namespace sluice::sqlite
