#include "tasks/fingerprint.h"

#include <boost/json.hpp>
#include <cstdio>

#include "tasks/registry.h"

namespace sluice {

namespace {

constexpr std::uint64_t kFnvPrime = 0x100000001b3ULL;

// Length-prefixed, so that moving text from one field to the next changes the hash.
void Mix(std::uint64_t& h, std::string_view field) {
  std::string len = std::to_string(field.size()) + ":";
  h = Fnv1a64(len, h);
  h = Fnv1a64(field, h);
}

}  // namespace

std::uint64_t Fnv1a64(std::string_view data, std::uint64_t seed) {
  std::uint64_t h = seed;
  for (unsigned char c : data) {
    h ^= c;
    h *= kFnvPrime;
  }
  return h;
}

std::string VersionFingerprint(const TaskVersion& v) {
  std::uint64_t h = Fnv1a64("");
  Mix(h, v.system);
  Mix(h, v.user);
  Mix(h, v.schema_name());
  Mix(h, v.schema ? boost::json::serialize(v.schema->document) : "");
  Mix(h, boost::json::serialize(v.params));
  if (v.review) {
    char below[64];
    std::snprintf(below, sizeof below, "%.17g", v.review->below);
    Mix(h, "review:" + v.review->field + "<" + below);
  } else {
    Mix(h, "review:none");
  }
  Mix(h, v.mask_pii ? "mask_pii:1" : "mask_pii:0");
  char hex[20];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("f1:") + hex;
}

std::string FingerprintKey(std::string_view task, std::string_view version) {
  return std::string(task) + "/" + std::string(version);
}

std::map<std::string, std::string> Fingerprints(const TaskRegistry& registry) {
  std::map<std::string, std::string> out;
  for (const std::string& name : registry.names()) {
    for (const TaskVersion& v : registry.find(name)->versions) {
      out[FingerprintKey(name, v.id)] = v.fingerprint;
    }
  }
  return out;
}

Status CheckFingerprints(const TaskRegistry& registry,
                         const std::map<std::string, std::string>& recorded) {
  std::string problems;
  for (const auto& [key, fingerprint] : recorded) {
    size_t slash = key.find('/');
    std::string task = key.substr(0, slash);
    std::string version = slash == std::string::npos ? "" : key.substr(slash + 1);
    const TaskType* type = registry.find(task);
    const TaskVersion* v = type ? type->find_version(version) : nullptr;
    std::string problem;
    if (v == nullptr) {
      problem = key + " was used but is no longer defined";
    } else if (v->fingerprint != fingerprint) {
      problem =
          key + " was edited after use (recorded " + fingerprint + ", now " + v->fingerprint + ")";
    } else {
      continue;
    }
    problems += (problems.empty() ? "" : "; ") + problem;
  }
  if (problems.empty()) return Status::Ok();
  return FailedPrecondition("task versions are immutable once used: " + problems +
                            ". Restore the old text and add a new version instead.");
}

}  // namespace sluice
