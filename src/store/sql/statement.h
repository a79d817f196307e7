// One SQL statement of the store core with its text for each dialect.
//
// Most statements are written once, in PostgreSQL's syntax with its parameter casts
// ($1::text), and the SQLite text is derived from it (Portable): $N becomes ?N, casts are
// dropped, greatest/least become max/min. The few that differ in more than spelling (row
// locks, RETURNING inside a CTE, rowid tricks) give both texts (PerDialect). In either text
// `{name}` splices a value the code owns, so that no number of a persisted enum is typed twice:
// `{queued}`, `{running}`, ... are JobStatus numbers (core/job.h), `{jobs}`, `{batches}`, ... the
// column lists of the column tables (sql/columns.h). An unknown name is a CHECK failure when
// the statement is built (statements.cc builds every statement at first use).
//
// Engines cache prepared statements under the address of the text, so a Statement must have
// static storage (statements.h keeps them all).
#pragma once

#include <string>
#include <string_view>

namespace sluice::sql {

enum class Syntax { kSqlite, kPostgres };

class Statement {
 public:
  const char* text(Syntax syntax) const {
    return syntax == Syntax::kSqlite ? sqlite_.c_str() : postgres_.c_str();
  }
  // PostgreSQL: the result columns come back in binary format (the statement returns only
  // BYTEA columns, read as raw bytes). SQLite has one format.
  bool binary_result() const { return binary_result_; }
  Statement& with_binary_result() {
    binary_result_ = true;
    return *this;
  }

 private:
  friend Statement Portable(std::string_view postgres);
  friend Statement PerDialect(std::string_view sqlite, std::string_view postgres);
  std::string sqlite_;
  std::string postgres_;
  bool binary_result_ = false;
};

// A statement written once, in PostgreSQL's syntax; the SQLite text is derived from it.
Statement Portable(std::string_view postgres);
// A statement whose dialects differ in more than spelling.
Statement PerDialect(std::string_view sqlite, std::string_view postgres);
// A statement of one engine's own (its text for the other is empty).
inline Statement SqliteOnly(std::string_view sqlite) { return PerDialect(sqlite, ""); }
inline Statement PostgresOnly(std::string_view postgres) { return PerDialect("", postgres); }

// The SQLite spelling of a PostgreSQL text (exposed for its test).
std::string SqliteSpelling(std::string_view postgres);
// `text` with every {name} replaced (exposed for its test).
std::string Splice(std::string_view text);

}  // namespace sluice::sql
