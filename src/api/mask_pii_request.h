// Whether a request asks for PII masking outside its body (API.md "Privacy: PII masking"):
// its tenant's mask_pii, or the header Sluice-Mask-PII: true.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "auth/caller.h"
#include "core/mutex.h"
#include "core/status.h"
#include "core/time.h"
#include "http/server.h"
#include "privacy/pii_masker.h"
#include "store/store.h"

namespace sluice {

inline constexpr const char* kMaskPiiHeader = "sluice-mask-pii";

struct ApiContext;

// The masker handlers use: [privacy]'s (ApiContext::pii_masker), else the built-in rules.
const privacy::PiiMasker& PiiMaskerOf(const ApiContext& ctx);

// InvalidArgument naming the header when it is neither "true" nor "false": a misspelt value
// must not silently send text unmasked.
Result<bool> MaskPiiAsked(const http::Request& request, const auth::Caller& caller);

// The tenant's mask_pii, for jobs submitted without a request (batch lines, schedules). A
// store read; when it fails the answer is true: masking too much never leaks anything.
bool TenantMasksPii(Store& store, const std::string& tenant);

// TenantMasksPii with each tenant's answer kept for `ttl`, so that a batch reads it once a
// while rather than once a line (a round trip each, on PostgreSQL). A changed flag holds from at
// most `ttl` later, as a key lookup does ([auth] key_cache). Thread-safe.
class TenantMaskCache {
 public:
  TenantMaskCache(Store& store, const Clock& clock, Millis ttl = 2'000)
      : store_(store), clock_(clock), ttl_(ttl) {}
  bool masks(const std::string& tenant);

 private:
  Store& store_;
  const Clock& clock_;
  const Millis ttl_;
  Mutex mu_;
  std::map<std::string, std::pair<bool, Millis>> known_ GUARDED_BY(mu_);  // → (masks, read at)
};

}  // namespace sluice
