// A thin, Status-returning wrapper over one SQLite connection and its prepared statements.
//
// Ownership and threading: a Connection is used by one thread at a time (it is opened in
// SQLite's multi-thread mode, without SQLite's own mutexes); SqliteDialect guards the writer
// with a mutex and hands each reader to one caller at a time. A Statement borrows a cached
// prepared statement from its Connection and resets it when it goes away, so a Statement must
// not outlive its Connection, and the same SQL text may not be borrowed twice at once (a CHECK
// catches that bug).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace sluice::sqlite {

class Statement;

struct ConnectionOptions {
  bool durable = true;     // synchronous=FULL (fsync on each commit), else OFF
  bool read_only = false;  // query_only: a reader never writes by mistake
  int busy_timeout_ms = 5000;
};

class Connection {
 public:
  // Opens (creating if needed) the database at `path` in WAL mode.
  static Result<std::unique_ptr<Connection>> Open(const std::string& path,
                                                  const ConnectionOptions& options);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements that return nothing of interest (DDL, pragmas). Not cached:
  // for setup and migrations, not for hot paths.
  Status exec(const char* sql);

  // The prepared statement for `sql`, compiled once (SQLITE_PREPARE_PERSISTENT) and cached.
  // `sql` must have static storage: its address is the cache key (queries.h).
  Result<Statement> prepare(const char* sql);

  // Rows changed by the last INSERT/UPDATE/DELETE.
  int changes() const;

  // A Status for SQLite result code `rc`: busy/locked/full/I/O errors are kUnavailable (retry
  // later), a unique or primary key violation is kAlreadyExists, anything else kInternal.
  Status error(int rc, std::string_view context) const;

  sqlite3* handle() const { return db_; }

  // Whether commits from now on fsync the log (synchronous=FULL) or leave it to the next commit
  // that does, or to a checkpoint (NORMAL). Only outside a transaction; no-op on a connection
  // opened without durability (it never syncs).
  Status set_sync_each_commit(bool sync);

 private:
  friend class Statement;
  struct Cached {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;
  };
  Connection(sqlite3* db, bool durable) : db_(db), durable_(durable) {}

  sqlite3* db_;
  bool durable_;
  std::unordered_map<const char*, Cached> cache_;
};

// A borrowed prepared statement. Parameters are numbered from 1 (as ?1, ?2 in the SQL); text is
// bound without copying, so it must stay alive and unchanged until the statement is reset.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  ~Statement();

  void bind_int(int index, std::int64_t value);
  void bind_real(int index, double value);
  void bind_text(int index, std::string_view value);
  void bind_text(int index, std::string&&) = delete;  // would dangle: bind an lvalue
  void bind_null(int index);
  // Any bytes (NULs included) as a BLOB; like text, bound without copying.
  void bind_blob(int index, std::string_view value);

  // Steps once: true when a row is ready to read, false when the statement is done.
  Result<bool> step();
  // Steps until done, discarding any rows.
  Status run();
  // Ready to run again with new bindings (old bindings are kept until rebound).
  void reset();

  bool is_null(int column) const;
  std::int64_t int_at(int column) const;
  double real_at(int column) const;
  std::string text_at(int column) const;

 private:
  friend class Connection;
  Statement(Connection* conn, Connection::Cached* cached)
      : conn_(conn), cached_(cached), stmt_(cached->stmt) {}

  Connection* conn_;
  Connection::Cached* cached_;
  sqlite3_stmt* stmt_;
};

}  // namespace sluice::sqlite
