// A thin, Status-returning wrapper over one libpq connection, its prepared statements and their
// results. Everything travels in libpq's text format: the store's values are integers, doubles
// and text, whose text forms are exact (doubles are written shortest-round-trip).
//
// Ownership and threading: a Connection is used by one thread at a time (ConnectionPool hands
// each to one caller). Rows owns its PGresult and may outlive the next query on the same
// connection. Failures are Status values:
//   kUnavailable   the server is unreachable, restarting or overloaded, the connection broke,
//                  or the transaction lost a deadlock or serialization race: retry later.
//   kAlreadyExists a unique or primary key violation.
//   kInternal      anything else (a bug in a statement, a schema that does not match).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"
#include "store/sql/params.h"

struct pg_conn;
struct pg_result;

namespace sluice::pg {

struct ConnectionSettings {
  std::string url;  // a libpq connection URI or keyword/value string
  // false: this session commits without waiting for the WAL flush (synchronous_commit=off).
  // For throwaway test stores only; a durable store leaves the server's setting alone.
  bool durable = true;
  int connect_timeout_seconds = 10;
};

// The format a statement's result columns come back in. kBinary returns BYTEA columns as their
// raw bytes (Rows::view_at); use it only for statements whose columns are all BYTEA.
enum class ResultFormat { kText = 0, kBinary = 1 };

// The rows of one statement's result (text format).
class Rows {
 public:
  Rows() = default;
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&& other) noexcept;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  ~Rows();

  int size() const;
  // Rows an INSERT/UPDATE/DELETE changed (its command tag), 0 for other statements.
  std::int64_t affected() const;

  bool is_null(int row, int column) const;
  std::string text_at(int row, int column) const;
  std::string_view view_at(int row, int column) const;
  std::int64_t int_at(int row, int column) const;
  double real_at(int row, int column) const;

 private:
  friend class Connection;
  explicit Rows(pg_result* result) : result_(result) {}
  pg_result* result_ = nullptr;
};

class Connection {
 public:
  // Connects and prepares the session. kUnavailable when the server cannot be reached or
  // refuses the connection; kInvalidArgument for a malformed URL.
  static Result<std::unique_ptr<Connection>> Open(const ConnectionSettings& settings);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs one or more statements through the simple protocol (BEGIN, COMMIT, DDL). Not
  // prepared: for transaction control and setup, not for statements with values.
  Status exec(const char* sql);

  // Runs `sql` with `params`. `sql` must have static storage: its address is the key of the
  // statement prepared for it on this connection, once. Parameter types come from the casts in
  // the SQL text. Text travels as text, with every NUL byte and invalid UTF-8 sequence (which
  // PostgreSQL text refuses) made U+FFFD; bytes travel in binary format, as they are, for a
  // BYTEA parameter.
  Result<Rows> run(const char* sql, const sql::Params& params = sql::Params(),
                   ResultFormat format = ResultFormat::kText);

  // True once the connection is lost: it can do nothing more and must be replaced.
  bool broken() const;
  // True when no transaction is open (nor failed and waiting for ROLLBACK).
  bool idle() const;
  // The server process serving this connection.
  int backend_pid() const;

  // For a session that LISTENs (postgres/listener.h): the socket to poll for input, and the
  // notifications that input carried. consume() reads what the socket has without blocking;
  // kUnavailable when the connection broke. next_notification() is the payload of the oldest
  // notification not yet taken, nullopt when there is none.
  int socket() const;
  Status consume();
  std::optional<std::string> next_notification();

 private:
  explicit Connection(pg_conn* conn) : conn_(conn) {}
  Status error(const pg_result* result, std::string_view context) const;
  Result<std::string> prepared_name(const char* sql);

  pg_conn* conn_;
  std::unordered_map<const char*, std::string> prepared_;
};

}  // namespace sluice::pg
