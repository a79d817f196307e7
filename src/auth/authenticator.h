// Authentication: from an Authorization header to a Caller (auth/caller.h).
//
// Modes (API.md "Tenants, API keys and quotas"): with no admin key and no API key anywhere,
// every request is the tenant "default", unauthenticated (the server then listens on loopback
// only; cli/serve_command.cc refuses anything else). Once the admin key is set or any key was
// created (by any node: required() learns it from the store), every /v1 route needs a key.
//
// Lookups: a key is found by the SHA-256 of its secret (an index, never a scan), and what was
// found — the key, its tenant's limits and usage, or that it is unknown or revoked — is trusted
// for `cache_ttl` (≤ 5 s), then asked again. So a key revoked on one node stops working on
// every node within cache_ttl plus one lookup, and a busy key costs one store read per
// cache_ttl, not one per request. Store reads are blocking: lookup() runs off the event loop
// (api/authenticate.cc); cached() is memory only. The cache is bounded: a flood of random keys
// evicts, it does not grow.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "auth/caller.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/time.h"
#include "store/store.h"

namespace sluice::auth {

class Authenticator {
 public:
  struct Options {
    std::string admin_key;        // empty: no admin key
    Millis cache_ttl = 2'000;
    std::size_t max_cached = 100'000;
  };
  Authenticator(Store& store, const Clock& clock, Options options);

  // Whether requests need a key. Memory only.
  bool required() const;
  // Blocking: learns from the store whether a key exists (a no-op once one was seen).
  Status refresh_required();

  // The caller for this Authorization header value when the answer is known and fresh: a
  // Caller, or kUnauthenticated. nullopt: ask lookup(). The admin key is always answered here.
  std::optional<Result<Caller>> cached(std::string_view authorization) const;
  // Blocking: reads the key (or, without authentication, the default tenant) from the store
  // and remembers the answer. kUnavailable when the store cannot answer.
  Result<Caller> lookup(std::string_view authorization);

  // Forgets what was cached: this node's own admin changes take effect at once.
  void forget();

 private:
  struct Entry {
    Result<Caller> caller;
    Millis fetched_at = 0;
  };
  // The cache key: the secret's hash, or "" for the unauthenticated default tenant.
  std::optional<std::string> CacheKey(std::string_view authorization) const;
  Result<Caller> Resolve(const std::string& cache_key);
  Result<Caller> WithTenant(Caller caller);

  Store& store_;
  const Clock& clock_;
  const Options options_;
  const std::string admin_hash_;  // hash of the admin key; empty when none
  mutable Mutex mu_;
  bool keys_exist_ GUARDED_BY(mu_) = false;
  std::unordered_map<std::string, Entry> cache_ GUARDED_BY(mu_);
};

}  // namespace sluice::auth
