#include "store/sqlite/sqlite_session.h"

#include <utility>

namespace sluice::sqlite {

namespace {

void Bind(Statement& stmt, const sql::Params& params) {
  int index = 1;
  for (const sql::Params::Value& v : params.values()) {
    switch (v.kind) {
      case sql::Params::Value::kNull:
        stmt.bind_null(index);
        break;
      case sql::Params::Value::kInteger:
        stmt.bind_int(index, v.integer);
        break;
      case sql::Params::Value::kReal:
        stmt.bind_real(index, v.real);
        break;
      case sql::Params::Value::kText:
        stmt.bind_text(index, v.text);
        break;
      case sql::Params::Value::kBytes:
        stmt.bind_blob(index, v.text);
        break;
    }
    ++index;
  }
}

// Owns the parameters its statement's bindings point into, for as long as rows are read.
class StatementCursor final : public sql::Cursor {
 public:
  StatementCursor(Statement stmt, sql::Params params)
      : stmt_(std::move(stmt)), params_(std::move(params)), row_(stmt_) {
    Bind(stmt_, params_);
  }
  Result<bool> next() override { return stmt_.step(); }
  bool is_null(int column) const override { return row_.is_null(column); }
  std::int64_t int_at(int column) const override { return row_.int_at(column); }
  double real_at(int column) const override { return row_.real_at(column); }
  std::string text_at(int column) const override { return row_.text_at(column); }

 private:
  Statement stmt_;
  const sql::Params params_;
  StatementRow row_;
};

}  // namespace

Result<std::unique_ptr<sql::Cursor>> ConnectionSession::query(const sql::Statement& stmt,
                                                              sql::Params params) {
  ASSIGN_OR_RETURN(Statement prepared, conn_.prepare(stmt.text(sql::Syntax::kSqlite)));
  return std::unique_ptr<sql::Cursor>(
      std::make_unique<StatementCursor>(std::move(prepared), std::move(params)));
}

Result<std::int64_t> ConnectionSession::exec(const sql::Statement& stmt, sql::Params params) {
  ASSIGN_OR_RETURN(Statement prepared, conn_.prepare(stmt.text(sql::Syntax::kSqlite)));
  Bind(prepared, params);
  RETURN_IF_ERROR(prepared.run());
  return static_cast<std::int64_t>(conn_.changes());
}

}  // namespace sluice::sqlite
