#include "core/ids.h"

#include <cstdint>
#include <mutex>
#include <random>

namespace sluice {

namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

struct IdState {
  std::mutex mu;
  Millis last_ms = 0;
  std::uint64_t hi = 0;  // 16 random bits
  std::uint64_t lo = 0;  // 64 random bits
  std::mt19937_64 rng{std::random_device{}()};
};

}  // namespace

std::string NewId(std::string_view prefix, Millis now) {
  static IdState state;
  std::uint64_t hi, lo;
  {
    std::lock_guard lock(state.mu);
    if (now <= state.last_ms) {
      // Same (or earlier) millisecond: bump the random part so the order still holds.
      now = state.last_ms;
      if (++state.lo == 0) ++state.hi;
    } else {
      state.last_ms = now;
      state.hi = state.rng() & 0x7fff;  // leave headroom for increments
      state.lo = state.rng();
    }
    hi = state.hi;
    lo = state.lo;
  }
  char out[26];
  std::uint64_t t = static_cast<std::uint64_t>(now);
  for (int i = 9; i >= 0; --i) {
    out[i] = kAlphabet[t & 31];
    t >>= 5;
  }
  // 80 random bits = hi(16) lo(64) as 16 base32 chars.
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[lo & 31];
    lo = (lo >> 5) | ((hi & 31) << 59);
    hi >>= 5;
  }
  std::string id(prefix);
  id.append(out, 26);
  return id;
}

}  // namespace sluice
