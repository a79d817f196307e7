#include "privacy/checksums.h"

#include <gtest/gtest.h>

namespace sluice::privacy {
namespace {

TEST(ChecksumsTest, LuhnAcceptsRealCardNumbersAsWritten) {
  EXPECT_TRUE(LuhnValid("4111111111111111"));
  EXPECT_TRUE(LuhnValid("4111 1111 1111 1111"));
  EXPECT_TRUE(LuhnValid("5500-0000-0000-0004"));
  EXPECT_TRUE(LuhnValid("3782 822463 10005"));  // Amex, 15 digits
}

TEST(ChecksumsTest, LuhnRejectsAWrongCheckDigitAndWrongLengths) {
  EXPECT_FALSE(LuhnValid("4111111111111112"));
  EXPECT_FALSE(LuhnValid("411111111111"));            // 12 digits: too short for a card
  EXPECT_FALSE(LuhnValid("41111111111111111111"));    // 20 digits: too long
  EXPECT_FALSE(LuhnValid("4111 1111 1111 111x"));
}

TEST(ChecksumsTest, IbanMod97) {
  EXPECT_TRUE(IbanValid("GB82 WEST 1234 5698 7654 32"));
  EXPECT_TRUE(IbanValid("DE89370400440532013000"));
  EXPECT_TRUE(IbanValid("KZ86125KZT5004100100"));
  EXPECT_TRUE(IbanValid("kz86 125k zt50 0410 0100"));  // case does not matter
  EXPECT_FALSE(IbanValid("GB82 WEST 1234 5698 7654 33"));
  EXPECT_FALSE(IbanValid("KZ87125KZT5004100100"));
  EXPECT_FALSE(IbanValid("1282WEST12345698765432"));  // no country code
  EXPECT_FALSE(IbanValid("GB82"));
}

TEST(ChecksumsTest, KazakhstanIinCheckDigit) {
  EXPECT_TRUE(KzIinValid("900101300126"));
  EXPECT_TRUE(KzIinValid("851205401236"));
  EXPECT_TRUE(KzIinValid("100000000205"));  // the first weights give 10: the second set decides
  EXPECT_FALSE(KzIinValid("900101300127"));
  EXPECT_FALSE(KzIinValid("90010130012"));  // 11 digits
  EXPECT_FALSE(KzIinValid("1000000002050"));
}

TEST(ChecksumsTest, PhoneDigitsCountsDigitsOnly) {
  EXPECT_TRUE(PhoneDigitsValid("+7 701 234 56 78"));
  EXPECT_TRUE(PhoneDigitsValid("8 (701) 234-56-78"));
  EXPECT_FALSE(PhoneDigitsValid("+1 23 45 67"));  // 7 digits
  EXPECT_FALSE(PhoneDigitsValid("+44 1234 5678 9012 3456"));  // 18 digits
}

}  // namespace
}  // namespace sluice::privacy
