#include "store/sql/migrations.h"

#include <set>
#include <string>

namespace sluice::sql {

namespace {

const Statement& AppliedVersions() {
  static const auto* const kStatement =
      new Statement(Portable("SELECT version FROM schema_migrations"));
  return *kStatement;
}

const Statement& RecordVersion() {
  static const auto* const kStatement =
      new Statement(Portable("INSERT INTO schema_migrations (version) VALUES ($1::integer)"));
  return *kStatement;
}

Status Apply(Session& session, std::span<const Migration> migrations,
             const MigrationSteps& steps) {
  if (steps.lock) RETURN_IF_ERROR(session.run_script(steps.lock));
  RETURN_IF_ERROR(session.run_script(steps.create_table));
  std::set<int> applied;
  {
    ASSIGN_OR_RETURN(std::unique_ptr<Cursor> rows, session.query(AppliedVersions()));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, rows->next());
      if (!row) break;
      applied.insert(static_cast<int>(rows->int_at(0)));
    }
  }
  const int current = applied.empty() ? 0 : *applied.rbegin();
  const int newest = migrations.empty() ? 0 : migrations.back().version;
  if (current > newest) {
    return FailedPrecondition("the database has schema version " + std::to_string(current) +
                              " but this build knows only up to " + std::to_string(newest) +
                              ": run a newer sluice");
  }
  for (const Migration& m : migrations) {
    if (applied.contains(m.version)) continue;
    RETURN_IF_ERROR(session.run_script(m.sql));
    RETURN_IF_ERROR(session.exec(RecordVersion(), Params().add(m.version)).status());
  }
  return Status::Ok();
}

}  // namespace

Status ApplyMigrations(Session& session, std::span<const Migration> migrations,
                       const MigrationSteps& steps) {
  RETURN_IF_ERROR(session.run_script(steps.begin));
  Status status = Apply(session, migrations, steps);
  if (!status.ok()) {
    (void)session.run_script("ROLLBACK");
    return status;
  }
  return session.run_script("COMMIT");
}

}  // namespace sluice::sql
