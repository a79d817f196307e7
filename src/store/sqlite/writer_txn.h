// One transaction on the embedded engine's writer connection: BEGIN IMMEDIATE (the database's
// write lock now, not at the first write) ... COMMIT, rolled back unless committed. An unsynced
// one (sql::CommitSync, sqlite_dialect.h) turns the fsync of its commit off and back on after
// it, whatever its end, so no later write is weakened by it. The caller holds the writer's mutex.
#pragma once

#include "core/status.h"
#include "store/sql/dialect.h"
#include "store/sqlite/connection.h"

namespace sluice::sqlite {

class WriterTxn {
 public:
  explicit WriterTxn(Connection& conn, sql::CommitSync sync = sql::CommitSync::kSynced)
      : conn_(conn), sync_(sync) {}
  WriterTxn(const WriterTxn&) = delete;
  WriterTxn& operator=(const WriterTxn&) = delete;
  ~WriterTxn();

  Status begin();
  Status commit();

 private:
  // Back to synced commits after an unsynced transaction.
  void restore_sync();

  Connection& conn_;
  sql::CommitSync sync_;
  bool open_ = false;
};

}  // namespace sluice::sqlite
