// Opaque, prefixed ids sortable by creation time: "job_" + 26 Crockford base32 chars
// (48-bit ms timestamp, then 80 random bits), like a ULID. Monotonic within a process, so
// ids made in the same millisecond still sort in creation order.
#pragma once

#include <string>
#include <string_view>

#include "core/time.h"

namespace sluice {

std::string NewId(std::string_view prefix, Millis now);

}  // namespace sluice
