// SIGTERM/SIGINT handling for the long-running commands: the signals are blocked before any
// thread starts (threads inherit the mask), and the main thread later waits for one.
#pragma once

#include <signal.h>

namespace sluice {

class StopSignals {
 public:
  // Blocks SIGTERM and SIGINT in this thread (and every thread started after) and ignores
  // SIGPIPE (a client that hangs up must not kill the server).
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    signal(SIGPIPE, SIG_IGN);
  }
  // Returns the signal that arrived.
  int wait() const {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

}  // namespace sluice
