#include "privacy/checksums.h"

#include <algorithm>
#include <string>

namespace sluice::privacy {

namespace {

bool IsSeparator(char c) { return c == ' ' || c == '-'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The value's characters without separators; empty when anything else is in it.
std::string Compact(std::string_view value, bool letters_allowed) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (IsSeparator(c)) continue;
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (!IsDigit(c) && !(letters_allowed && letter)) return {};
    out.push_back(c);
  }
  return out;
}

}  // namespace

bool LuhnValid(std::string_view value) {
  const std::string digits = Compact(value, false);
  if (digits.size() < 13 || digits.size() > 19) return false;
  int sum = 0;
  bool twice = false;  // every second digit from the right, the check digit itself not
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    int d = *it - '0';
    if (twice) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    twice = !twice;
  }
  return sum % 10 == 0;
}

bool IbanValid(std::string_view value) {
  std::string iban = Compact(value, true);
  if (iban.size() < 15 || iban.size() > 34) return false;  // Norway's 15 to Saint Lucia's 32, room
  for (char& c : iban) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (!(iban[0] >= 'A' && iban[0] <= 'Z' && iban[1] >= 'A' && iban[1] <= 'Z' && IsDigit(iban[2]) &&
        IsDigit(iban[3]))) {
    return false;
  }
  // The first four characters move to the end; letters count as 10..35. The remainder is
  // taken as the digits go, so no big number is ever built.
  const std::string moved = iban.substr(4) + iban.substr(0, 4);
  int remainder = 0;
  for (char c : moved) {
    if (IsDigit(c)) {
      remainder = (remainder * 10 + (c - '0')) % 97;
    } else {
      const int n = c - 'A' + 10;
      remainder = (remainder * 100 + n) % 97;
    }
  }
  return remainder == 1;
}

bool KzIinValid(std::string_view value) {
  const std::string digits = Compact(value, false);
  if (digits.size() != 12) return false;
  auto weighted = [&](int first_weight) {
    int sum = 0;
    for (int i = 0; i < 11; ++i) {
      const int weight = (first_weight + i - 1) % 11 + 1;  // first, first+1, ..., wrapping 11 → 1
      sum += (digits[static_cast<std::size_t>(i)] - '0') * weight;
    }
    return sum % 11;
  };
  int check = weighted(1);
  if (check == 10) check = weighted(3);
  if (check == 10) return false;
  return check == digits[11] - '0';
}

bool PhoneDigitsValid(std::string_view value) {
  const auto digits = std::count_if(value.begin(), value.end(), IsDigit);
  return digits >= 10 && digits <= 15;
}

}  // namespace sluice::privacy
