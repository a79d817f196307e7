#include "store/postgres/pool.h"

#include <utility>

namespace sluice::pg {

Result<ConnectionPool::Lease> ConnectionPool::acquire() {
  {
    std::unique_lock lock(mu_);
    bool free = returned_.wait_for(lock, options_.acquire_timeout, [&] {
      return !idle_.empty() || open_ < options_.max_connections;
    });
    if (!free) {
      return Unavailable("all " + std::to_string(options_.max_connections) +
                         " PostgreSQL connections stayed busy");
    }
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    ++open_;  // reserve the slot; connect outside the lock, it may take a while
  }
  Result<std::unique_ptr<Connection>> conn = Connection::Open(options_.connection);
  if (!conn.ok()) {
    {
      std::lock_guard lock(mu_);
      --open_;
    }
    returned_.notify_one();
    return conn.status();
  }
  return Lease(this, std::move(conn).value());
}

void ConnectionPool::adopt(std::unique_ptr<Connection> conn) {
  {
    std::lock_guard lock(mu_);
    ++open_;
  }
  give_back(std::move(conn));
}

void ConnectionPool::give_back(std::unique_ptr<Connection> conn) {
  std::vector<std::unique_ptr<Connection>> closing;
  {
    std::lock_guard lock(mu_);
    if (conn->broken() || !conn->idle()) {
      closing.push_back(std::move(conn));
      for (auto& idle : idle_) closing.push_back(std::move(idle));
      idle_.clear();
      open_ -= closing.size();
    } else {
      idle_.push_back(std::move(conn));
    }
  }
  // Closing talks to the server (or times out on a dead socket): not under the lock.
  closing.clear();
  returned_.notify_all();
}

}  // namespace sluice::pg
