#include "answer/patterns.h"

#include <gtest/gtest.h>

namespace sluice::answer {
namespace {

std::vector<std::string> Normalized(const std::vector<Found>& found) {
  std::vector<std::string> out;
  for (const Found& f : found) out.push_back(f.normalized);
  return out;
}

TEST(FindDates, FindsEveryWrittenFormAsIso) {
  std::string text =
      "Signed 2026-11-03, paid 03.11.2026, due November 3, 2026; moved to 4 Dec 2026 "
      "и 5 января 2027 г., US style 11/06/2026.";
  std::vector<Found> dates = FindDates(text);
  std::vector<std::string> expected = {"2026-11-03", "2026-11-03", "2026-11-03",
                                       "2026-12-04", "2027-01-05", "2026-11-06"};
  EXPECT_EQ(Normalized(dates), expected);
  EXPECT_EQ(dates[2].text, "November 3, 2026");
  EXPECT_EQ(text.substr(dates[4].offset, dates[4].text.size()), "5 января 2027");
}

TEST(FindDates, SkipsImpossibleDates) {
  EXPECT_TRUE(FindDates("2026-02-30 and 31.04.2026 and 2026-13-01").empty());
  EXPECT_EQ(Normalized(FindDates("29.02.2028")), std::vector<std::string>{"2028-02-29"});
}

TEST(FindAmounts, FindsAmountsWithCurrency) {
  std::vector<Amount> a = FindAmounts(
      "Charged $1,250.00 and 1 250 руб, then EUR 300, 1.250,50 EUR, 5000 рублей and 20 dollars.");
  ASSERT_EQ(a.size(), 6u);
  EXPECT_EQ(a[0].found.text, "$1,250.00");
  EXPECT_DOUBLE_EQ(a[0].value, 1250.0);
  EXPECT_EQ(a[0].currency, "USD");
  EXPECT_EQ(a[1].found.text, "1 250 руб");
  EXPECT_DOUBLE_EQ(a[1].value, 1250.0);
  EXPECT_EQ(a[1].currency, "RUB");
  EXPECT_EQ(a[2].found.normalized, "300.00 EUR");
  EXPECT_DOUBLE_EQ(a[3].value, 1250.5);
  EXPECT_EQ(a[3].currency, "EUR");
  EXPECT_EQ(a[4].currency, "RUB");
  EXPECT_DOUBLE_EQ(a[4].value, 5000.0);
  EXPECT_EQ(a[5].currency, "USD");
}

TEST(FindAmounts, IgnoresBareNumbers) { EXPECT_TRUE(FindAmounts("I called 3 times on 2026-11-03").empty()); }

TEST(ParseAmountNumber, ReadsSeparators) {
  double v = 0;
  ASSERT_TRUE(ParseAmountNumber("1,250.00", &v));
  EXPECT_DOUBLE_EQ(v, 1250.0);
  ASSERT_TRUE(ParseAmountNumber("1 250,5", &v));
  EXPECT_DOUBLE_EQ(v, 1250.5);
  ASSERT_TRUE(ParseAmountNumber("12,5", &v));
  EXPECT_DOUBLE_EQ(v, 12.5);
  ASSERT_TRUE(ParseAmountNumber("1,250", &v));
  EXPECT_DOUBLE_EQ(v, 1250.0);
}

TEST(FindPhones, NormalizesRussianInternationalAndUsNumbers) {
  std::vector<Found> p = FindPhones(
      "Call +7 (916) 123-45-67 or 8 916 765 43 21, London +44 20 7946 0958, NY (212) 555-1234.");
  std::vector<std::string> expected = {"+79161234567", "+79167654321", "+442079460958", "+12125551234"};
  EXPECT_EQ(Normalized(p), expected);
  EXPECT_EQ(p[0].text, "+7 (916) 123-45-67");
}

TEST(FindPhones, DatesAndIbansAreNotPhones) {
  EXPECT_TRUE(FindPhones("On 2026-11-03 pay to DE89 3704 0044 0532 0130 00 please").empty());
}

TEST(FindEmails, FindsAndLowercases) {
  std::vector<Found> e = FindEmails("Write to Ivan.Petrov@Example.COM or support@bank.ru.");
  EXPECT_EQ(Normalized(e), (std::vector<std::string>{"ivan.petrov@example.com", "support@bank.ru"}));
}

TEST(Iban, ChecksumMod97) {
  EXPECT_TRUE(IbanChecksumValid("DE89370400440532013000"));
  EXPECT_TRUE(IbanChecksumValid("GB82WEST12345698765432"));
  EXPECT_FALSE(IbanChecksumValid("DE89370400440532013001"));
  EXPECT_FALSE(IbanChecksumValid("GB82WEST1234"));
}

TEST(FindIbans, KeepsOnlyValidOnesAndStopsAtTheEnd) {
  std::vector<Found> i = FindIbans(
      "Pay to DE89 3704 0044 0532 0130 00, or GB82 WEST 1234 5698 7654 32 EUR, not DE89 3704 0044 0532 0130 01.");
  EXPECT_EQ(Normalized(i), (std::vector<std::string>{"DE89370400440532013000", "GB82WEST12345698765432"}));
  EXPECT_EQ(i[1].text, "GB82 WEST 1234 5698 7654 32");
}

TEST(FindContractNumbers, EnglishAndRussianForms) {
  std::vector<Found> c = FindContractNumbers(
      "Under contract No. 2024-117 and договор № 45/2024, see also contract AB-1234 and "
      "Договор №17; invoice No. INV-9.");
  std::vector<std::string> expected = {"2024-117", "45/2024", "AB-1234", "17", "INV-9"};
  EXPECT_EQ(Normalized(c), expected);
  EXPECT_EQ(c[0].text, "contract No. 2024-117");
}

TEST(FindContractNumbers, IgnoresPlainWords) {
  EXPECT_TRUE(FindContractNumbers("No. I did not sign the contract with them.").empty());
}

TEST(FindParties, RussianAndEnglishOrganisations) {
  std::vector<Found> p = FindParties("Между ООО «Ромашка» и АО Альфа Банк, and Acme Trading Ltd with Globex Inc.");
  std::vector<std::string> expected = {"ООО «Ромашка»", "АО Альфа Банк", "Acme Trading Ltd", "Globex Inc."};
  EXPECT_EQ(Normalized(p), expected);
}

}  // namespace
}  // namespace sluice::answer
