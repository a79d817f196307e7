// The versioned schema of the shared store and the code that brings a database up to date.
// Version numbers are the embedded engine's (store/sqlite/migrations.cc): migration N makes the
// same change to both engines, so "schema version 2" means one shape of the data everywhere.
#pragma once

#include <span>

#include "core/status.h"
#include "store/postgres/connection.h"
#include "store/sql/migrations.h"

namespace sluice::pg {

// Every migration, in version order (1, 2, 3, ...). See migrations.cc for the rule of change.
std::span<const sql::Migration> Migrations();

// Applies the migrations the schema lacks, all in one transaction, and records each in
// schema_migrations. The tables live in the connection's current schema (the first of its
// search_path). Safe when several nodes start at once: the transaction first takes an
// advisory lock, so one node migrates and the others then find nothing left to do.
// kFailedPrecondition when the database was written by a newer build.
Status ApplyMigrations(Connection& conn);

}  // namespace sluice::pg
