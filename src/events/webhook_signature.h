// The Sluice-Signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed
// with the secret named by [webhooks] secret_env. Signing the time with the body lets a
// receiver refuse replays of an old delivery (compare t with its clock, e.g. ±5 minutes);
// "v1" names the scheme, so a later scheme can be sent alongside while receivers move over.
// How a receiver verifies: README.md, "Webhooks".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice {

// Lower-case hex of HMAC-SHA256(key, message).
std::string HmacSha256Hex(std::string_view key, std::string_view message);

// The header's value for `body` sent at `unix_seconds`.
std::string WebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body);

}  // namespace sluice
