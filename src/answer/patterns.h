// Finds the typed facts of a document with RE2: dates, money amounts, phone numbers, emails,
// IBANs (checksum-validated), contract numbers and party (organisation) names, in English and
// Russian. Each finder returns its matches in text order, without overlaps.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::answer {

struct Found {
  std::string text;        // as written in the document
  std::string normalized;  // canonical form (see each finder)
  std::size_t offset = 0;  // byte offset of `text` in the document
};

struct Amount {
  Found found;           // normalized: "1250.00 USD" (or "1250.00" when no currency is known)
  double value = 0;      // 1250.0
  std::string currency;  // ISO 4217 code ("USD", "EUR", "RUB", "GBP", "JPY", ...)
};

// "2026-11-03", "03.11.2026", "11/03/2026" (US order unless the first part is > 12),
// "November 3, 2026", "3 Nov 2026", "3 ноября 2026". normalized: ISO "2026-11-03".
// Impossible dates (2026-02-30) are skipped.
std::vector<Found> FindDates(std::string_view text);

// "$1,250.00", "1 250 руб", "EUR 300", "300 €", "1.250,50 EUR", "5000 рублей", "100 dollars".
// An amount needs a currency sign, code or word beside it.
std::vector<Amount> FindAmounts(std::string_view text);

// "+7 (916) 123-45-67", "8 916 123 45 67", "+44 20 7946 0958", "(212) 555-1234".
// normalized: "+" and digits ("+79161234567"); a Russian leading 8 becomes +7, a US number +1.
std::vector<Found> FindPhones(std::string_view text);
// The same, given FindIbans(text) and FindDates(text) (a Document has them already).
std::vector<Found> FindPhones(std::string_view text, const std::vector<Found>& ibans,
                              const std::vector<Found>& dates);

// normalized: lowercased.
std::vector<Found> FindEmails(std::string_view text);

// "DE89 3704 0044 0532 0130 00"; only IBANs whose mod-97 checksum holds.
// normalized: without spaces, uppercase.
std::vector<Found> FindIbans(std::string_view text);

// "contract No. 2024-117", "договор № 45/2024", "contract AB-1234", "No. 2024-117".
// normalized: the number alone ("2024-117", "45/2024", "AB-1234").
std::vector<Found> FindContractNumbers(std::string_view text);

// Organisations: "ООО «Ромашка»", "АО Альфа", "Acme Trading Ltd", "Globex Inc.".
// normalized: the name as written, trimmed.
std::vector<Found> FindParties(std::string_view text);

// The ISO 13616 check: move the first four characters to the end, letters become 10..35,
// the number mod 97 must be 1. `compact` has no spaces.
bool IbanChecksumValid(std::string_view compact);

// Parses "1,250.00", "1 250", "1.250,50", "300" into a number; false when it is not one.
bool ParseAmountNumber(std::string_view text, double* value);

}  // namespace sluice::answer
