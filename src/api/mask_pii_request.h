// Whether a request asks for PII masking outside its body (API.md "Privacy: PII masking"):
// its tenant's mask_pii, or the header Sluice-Mask-PII: true.
#pragma once

#include "auth/caller.h"
#include "core/status.h"
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

}  // namespace sluice
