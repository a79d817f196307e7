// Many requests in flight at once over libcurl's multi interface, driven by the caller's thread:
// start() queues a transfer, poll() moves every transfer along for up to a given time and
// returns the ones that ended. Connections are kept alive and reused across requests (the multi
// handle's connection cache). Used by `sluice batch --wait` to long-poll many jobs without a
// thread per job. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client/api_client.h"

namespace sluice::client {

struct Completed {
  std::uint64_t tag = 0;        // what the caller gave start()
  Result<ApiResponse> response;  // any answer (check its status), or the transport's error
};

class ParallelRequests {
 public:
  // `max_connections` bounds the connections to the server (and so the useful in-flight count).
  ParallelRequests(ClientOptions options, int max_connections);
  ~ParallelRequests();
  ParallelRequests(const ParallelRequests&) = delete;
  ParallelRequests& operator=(const ParallelRequests&) = delete;

  void start(std::uint64_t tag, std::string method, std::string path, std::string body = {},
             CallOptions call = {});
  // Waits for activity for up to `max_wait_ms`, and returns every transfer that ended (possibly none).
  std::vector<Completed> poll(int max_wait_ms);
  std::size_t in_flight() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::client
