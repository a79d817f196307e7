// SqliteStore's read connection, borrowed from its pool for one call (sqlite_store.cc,
// sqlite_batches.cc). Private to the embedded engine.
#pragma once

#include <memory>
#include <utility>

#include "store/sqlite/connection.h"
#include "store/sqlite/sqlite_store.h"

namespace sluice {

class SqliteStore::Reader {
 public:
  Reader(SqliteStore* store, std::unique_ptr<sqlite::Connection> conn)
      : store_(store), conn_(std::move(conn)) {}
  Reader(Reader&&) noexcept = default;
  Reader& operator=(Reader&&) = delete;
  ~Reader() {
    if (conn_) store_->give_back(std::move(conn_));
  }
  sqlite::Connection& conn() { return *conn_; }

 private:
  SqliteStore* store_;
  std::unique_ptr<sqlite::Connection> conn_;
};

}  // namespace sluice
