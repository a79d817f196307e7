// UTF-8 well-formedness, for text that must stay valid on its way into JSON and the stores.
#pragma once

#include <cstddef>
#include <string_view>

namespace sluice {

// Length of the well-formed UTF-8 sequence at the start of `s` (1 to 4), or 0 when there is
// none: a stray continuation byte, an overlong form, a UTF-16 surrogate, a code point above
// U+10FFFF, or a sequence cut short. NUL is a valid 1-byte sequence here.
std::size_t Utf8SequenceLength(std::string_view s);

}  // namespace sluice
