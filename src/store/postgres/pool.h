// A small pool of PostgreSQL connections shared by every call of one PostgreSQL store (postgres_dialect.h).
//
// Connections open lazily, up to `max_connections`; a caller that finds them all busy waits
// (up to `acquire_timeout`) for one to come back. A connection that comes back broken, or with
// a transaction still open, is closed rather than reused, and so are all idle ones: a broken
// connection usually means the server restarted, and then every idle one is dead too. The next
// caller opens a fresh connection, so the store survives a server restart without a reopen.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status.h"
#include "store/postgres/connection.h"

namespace sluice::pg {

class ConnectionPool {
 public:
  struct Options {
    ConnectionSettings connection;
    std::size_t max_connections = 8;
    std::chrono::milliseconds acquire_timeout{30'000};
  };

  // A connection borrowed for one call; it goes back to the pool when the Lease goes away.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<Connection> conn)
        : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&& other) noexcept = default;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (conn_) pool_->give_back(std::move(conn_));
    }
    Connection& conn() { return *conn_; }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<Connection> conn_;
  };

  explicit ConnectionPool(Options options) : options_(std::move(options)) {}
  // Every Lease must have been given back.
  ~ConnectionPool() = default;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  // An idle connection, or a new one. kUnavailable when none can be opened (the server is
  // down) or none came back within acquire_timeout.
  Result<Lease> acquire();

  // Adds an already open connection to the idle ones (the one Open used for migrations).
  void adopt(std::unique_ptr<Connection> conn);

 private:
  void give_back(std::unique_ptr<Connection> conn);

  const Options options_;
  std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
  std::size_t open_ = 0;                           // GUARDED_BY(mu_): idle + leased + being opened
};

}  // namespace sluice::pg
