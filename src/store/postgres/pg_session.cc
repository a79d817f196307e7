#include "store/postgres/pg_session.h"

#include <utility>

namespace sluice::pg {

namespace {

// The whole result is in memory already (libpq reads it at once); next() walks it.
class ResultCursor final : public sql::Cursor {
 public:
  explicit ResultCursor(Rows rows) : rows_(std::move(rows)) {}
  Result<bool> next() override { return ++row_ < rows_.size(); }
  bool is_null(int column) const override { return rows_.is_null(row_, column); }
  std::int64_t int_at(int column) const override { return rows_.int_at(row_, column); }
  double real_at(int column) const override { return rows_.real_at(row_, column); }
  std::string text_at(int column) const override { return rows_.text_at(row_, column); }

 private:
  Rows rows_;
  int row_ = -1;
};

Result<Rows> Run(Connection& conn, const sql::Statement& stmt, const sql::Params& params) {
  return conn.run(stmt.text(sql::Syntax::kPostgres), params,
                  stmt.binary_result() ? ResultFormat::kBinary : ResultFormat::kText);
}

}  // namespace

Result<std::unique_ptr<sql::Cursor>> ConnectionSession::query(const sql::Statement& stmt,
                                                              sql::Params params) {
  ASSIGN_OR_RETURN(Rows rows, Run(conn_, stmt, params));
  return std::unique_ptr<sql::Cursor>(std::make_unique<ResultCursor>(std::move(rows)));
}

Result<std::int64_t> ConnectionSession::exec(const sql::Statement& stmt, sql::Params params) {
  ASSIGN_OR_RETURN(Rows rows, Run(conn_, stmt, params));
  return rows.affected();
}

}  // namespace sluice::pg
