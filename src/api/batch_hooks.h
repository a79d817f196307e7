// What the files and batches routes need from the batch runner (src/batches), which the api
// part cannot depend on: a thread for blocking store work, and a wake-up when a batch changed.
#pragma once

#include <functional>

namespace sluice {

class BatchHooks {
 public:
  virtual ~BatchHooks() = default;
  // Runs `work` on a thread that may block on the store (an upload writing its chunks), never
  // on an event-loop thread. False when it will not run (the server is stopping).
  virtual bool run_blocking(std::function<void()> work) = 0;
  // A batch was created or cancelled: look at it now rather than at the next poll.
  virtual void batches_changed() = 0;
};

}  // namespace sluice
