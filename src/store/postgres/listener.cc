#include "store/postgres/listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "core/status.h"

namespace sluice::pg {

Listener::Listener(ConnectionSettings settings, std::string channel, Handler handler)
    : settings_(std::move(settings)), channel_(std::move(channel)), handler_(std::move(handler)) {
  CHECK(pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) == 0);
  thread_ = std::thread([this] { Run(); });
}

Listener::~Listener() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  char byte = 0;
  while (write(wake_pipe_[1], &byte, 1) < 0 && errno == EINTR) {
  }
  if (thread_.joinable()) thread_.join();
  close(wake_pipe_[0]);
  close(wake_pipe_[1]);
}

bool Listener::listening() const {
  std::lock_guard lock(mu_);
  return listening_;
}

std::unique_ptr<Connection> Listener::Connect() {
  auto conn = Connection::Open(settings_);
  if (!conn.ok()) return nullptr;
  // The channel is a constant identifier of ours (queries.h), never user text.
  std::string listen = "LISTEN " + channel_;
  if (!(*conn)->exec(listen.c_str()).ok()) return nullptr;
  return std::move(conn).value();
}

bool Listener::AwaitInput(Connection& conn) {
  pollfd fds[2] = {{.fd = conn.socket(), .events = POLLIN, .revents = 0},
                   {.fd = wake_pipe_[0], .events = POLLIN, .revents = 0}};
  // No timeout: a dead peer that never closes is caught by the session's TCP keepalives
  // (connection.cc), which make the socket readable with an error.
  while (poll(fds, 2, -1) < 0) {
    if (errno != EINTR) return false;
  }
  return (fds[1].revents & POLLIN) == 0;
}

bool Listener::Pause(std::chrono::milliseconds pause) {
  std::unique_lock lock(mu_);
  return !stop_cv_.wait_for(lock, pause, [this] { return stopping_; });
}

void Listener::Run() {
  std::chrono::milliseconds backoff = kMinBackoff;
  while (true) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    std::unique_ptr<Connection> conn = Connect();
    if (!conn) {
      if (!Pause(backoff)) return;
      backoff = std::min(backoff * 2, kMaxBackoff);
      continue;
    }
    backoff = kMinBackoff;
    {
      std::lock_guard lock(mu_);
      listening_ = true;
    }
    bool stop = false;
    for (;;) {
      // Notifications may already wait in libpq's buffer (read along with LISTEN's reply).
      while (std::optional<std::string> queue = conn->next_notification()) handler_(*queue);
      if (!AwaitInput(*conn)) {
        stop = true;
        break;
      }
      if (!conn->consume().ok()) break;  // the session broke: reconnect
    }
    {
      std::lock_guard lock(mu_);
      listening_ = false;
    }
    if (stop) return;
  }
}

}  // namespace sluice::pg
