// Prompt versions are immutable once used (DESIGN.md "Reproducible"): a result names its
// prompt version, and that name must keep meaning the same prompt. The registry fingerprints
// each version's content; the server records the fingerprint of every version it runs and, at
// start, refuses a tasks dir in which a recorded version now reads differently.
//
// The fingerprint is persisted, so its formula is a format: "f1:" + FNV-1a 64 (hex) over the
// version's system and user templates, schema name and schema (as compact JSON), params (as
// compact JSON), review rule and mask_pii, each length-prefixed. Changing what goes in, or how,
// changes every fingerprint and would make every used version look edited: that needs a new
// prefix ("f2:") and a store migration that re-records the old ones, never an edit in place.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/status.h"
#include "tasks/task_type.h"

namespace sluice {

class TaskRegistry;

// FNV-1a, 64 bit. Stable across platforms and runs (no seed), which is what a stored
// fingerprint needs; it guards against accidents, not adversaries.
std::uint64_t Fnv1a64(std::string_view data, std::uint64_t seed = 0xcbf29ce484222325ULL);

// The fingerprint of a version's content ("f1:0123456789abcdef"). Ignores `fingerprint` itself.
std::string VersionFingerprint(const TaskVersion& version);

// The key under which a version's fingerprint is recorded: "classify_ticket/v2".
std::string FingerprintKey(std::string_view task, std::string_view version);

// Every version's fingerprint in the registry, by FingerprintKey.
std::map<std::string, std::string> Fingerprints(const TaskRegistry& registry);

// Checks `recorded` (FingerprintKey -> fingerprint, for every version that has been used)
// against the registry. FailedPrecondition naming each task/version whose content changed or
// that is no longer defined (jobs and results still refer to it); OK otherwise. Versions the
// registry has but `recorded` lacks are new and fine.
Status CheckFingerprints(const TaskRegistry& registry,
                         const std::map<std::string, std::string>& recorded);

}  // namespace sluice
