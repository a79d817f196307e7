#include "events/webhook_signature.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/status.h"

namespace sluice {

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  // An empty key is valid for HMAC; OpenSSL wants a non-null pointer even then.
  static const unsigned char kNoKey = 0;
  const void* key_data = key.empty() ? static_cast<const void*>(&kNoKey) : key.data();
  const unsigned char* out =
      HMAC(EVP_sha256(), key_data, static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  CHECK(out != nullptr);  // fails only when out of memory or with a broken OpenSSL
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

std::string WebhookSignature(std::string_view secret, std::int64_t unix_seconds,
                             std::string_view body) {
  const std::string t = std::to_string(unix_seconds);
  std::string signed_text;
  signed_text.reserve(t.size() + 1 + body.size());
  signed_text.append(t).append(".").append(body);
  return "t=" + t + ",v1=" + HmacSha256Hex(secret, signed_text);
}

}  // namespace sluice
