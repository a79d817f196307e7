// API key secrets: how they are made, stored and compared. A secret is shown once; the store
// keeps only its SHA-256, which is also how a request's key is found (an index on the hash,
// never a scan), so the stored value is useless to someone who reads the database.
#pragma once

#include <string>
#include <string_view>

namespace sluice::auth {

inline constexpr std::string_view kKeyPrefix = "sk-sluice-";

// "sk-sluice-" + 43 base64url characters: 256 random bits from the OS's CSPRNG.
std::string NewKeySecret();
// Lowercase hex SHA-256 of the secret: what the store keeps and looks up.
std::string KeyHash(std::string_view secret);
// Equal in time that does not depend on where the inputs differ (lengths may leak).
bool SameSecret(std::string_view a, std::string_view b);
// The secret of an "Authorization: Bearer <secret>" header value; empty when it is not one.
std::string_view BearerToken(std::string_view authorization);

}  // namespace sluice::auth
