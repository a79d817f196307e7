// The checks that tell a real identifier from a number that only looks like one: an order
// number of 16 digits is not a card unless its Luhn digit is right. Each takes the value as
// written (spaces and hyphens allowed between its characters) and ignores those separators.
#pragma once

#include <string_view>

namespace sluice::privacy {

// Payment cards: 13 to 19 digits whose last is the Luhn check digit.
bool LuhnValid(std::string_view value);

// IBAN (ISO 13616): two letters, two check digits, then up to 30 letters and digits; valid
// when the rearranged number is 1 modulo 97.
bool IbanValid(std::string_view value);

// Kazakhstan IIN/BIN: 12 digits, the last a weighted sum modulo 11 of the first eleven (a
// second set of weights when the first gives 10; a value for which both give 10 is never issued).
bool KzIinValid(std::string_view value);

// Phone numbers: 10 to 15 digits, whatever separators and parentheses stand between them.
bool PhoneDigitsValid(std::string_view value);

}  // namespace sluice::privacy
