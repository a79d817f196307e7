#include "api/mask_pii_request.h"

#include "api/api_context.h"

namespace sluice {

const privacy::PiiMasker& PiiMaskerOf(const ApiContext& ctx) {
  return ctx.pii_masker ? *ctx.pii_masker : privacy::PiiMasker::Builtin();
}

Result<bool> MaskPiiAsked(const http::Request& request, const auth::Caller& caller) {
  const std::string value = request.header(kMaskPiiHeader);
  if (!value.empty() && value != "true" && value != "false") {
    return InvalidArgument("Sluice-Mask-PII must be true or false, not " + value, "Sluice-Mask-PII");
  }
  return caller.limits.mask_pii || value == "true";
}

bool TenantMasksPii(Store& store, const std::string& tenant) {
  auto row = store.get_tenant(tenant);
  if (row.ok()) return row->mask_pii;
  return row.status().code() != StatusCode::kNotFound;
}

bool TenantMaskCache::masks(const std::string& tenant) {
  const Millis now = clock_.now();
  {
    MutexLock lock(mu_);
    auto it = known_.find(tenant);
    if (it != known_.end() && now - it->second.second < ttl_) return it->second.first;
  }
  // Read outside the lock: two callers may both read, which is harmless.
  const bool masks = TenantMasksPii(store_, tenant);
  MutexLock lock(mu_);
  known_[tenant] = {masks, now};
  return masks;
}

}  // namespace sluice
