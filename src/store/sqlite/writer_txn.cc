#include "store/sqlite/writer_txn.h"

#include "store/sqlite/sqlite_statements.h"

namespace sluice::sqlite {

WriterTxn::~WriterTxn() {
  if (open_) {
    // A failed ROLLBACK leaves nothing better to do: SQLite rolls back itself when the
    // connection next begins, and the caller already returns the error that brought us here.
    auto rollback = conn_.prepare(EngineSql().rollback.text(sql::Syntax::kSqlite));
    if (rollback.ok()) (void)rollback->run();
  }
  restore_sync();
}

void WriterTxn::restore_sync() {
  if (sync_ == sql::CommitSync::kSynced) return;
  sync_ = sql::CommitSync::kSynced;
  // Should it fail, the connection keeps committing unsynced: say so loudly rather than
  // silently weaken "accepted means durable". It cannot fail short of memory exhaustion.
  CHECK(conn_.set_sync_each_commit(true).ok());
}

Status WriterTxn::begin() {
  if (sync_ == sql::CommitSync::kUnsynced) RETURN_IF_ERROR(conn_.set_sync_each_commit(false));
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(EngineSql().begin.text(sql::Syntax::kSqlite)));
  RETURN_IF_ERROR(q.run());
  open_ = true;
  return Status::Ok();
}

Status WriterTxn::commit() {
  ASSIGN_OR_RETURN(Statement q, conn_.prepare(EngineSql().commit.text(sql::Syntax::kSqlite)));
  RETURN_IF_ERROR(q.run());
  open_ = false;
  restore_sync();
  return Status::Ok();
}

}  // namespace sluice::sqlite
