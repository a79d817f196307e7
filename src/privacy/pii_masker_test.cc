#include "privacy/pii_masker.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::privacy {
namespace {

namespace json = boost::json;

std::string Mask(std::string_view text, PiiMapping& mapping) {
  return PiiMasker::Builtin().mask(text, mapping);
}

// Each valid value of each kind, as people write it, in English, Russian and Kazakh text.
struct Case {
  const char* text;
  const char* value;        // what must not survive masking
  const char* placeholder;  // what stands in its place
};

TEST(PiiMaskerTest, EveryValidValueIsReplacedByItsTypedPlaceholder) {
  const Case cases[] = {
      {"Write to anna.k+bank@mail.example.kz please", "anna.k+bank@mail.example.kz", "[EMAIL_1]"},
      {"Пишите на ivan.petrov@yandex.ru, спасибо", "ivan.petrov@yandex.ru", "[EMAIL_1]"},
      {"Call me at +7 701 234 56 78 tomorrow", "+7 701 234 56 78", "[PHONE_1]"},
      {"Мой номер 8 (701) 234-56-78, звоните", "8 (701) 234-56-78", "[PHONE_1]"},
      {"Менің нөмірім +77012345678.", "+77012345678", "[PHONE_1]"},
      {"US office: +1 (415) 555-2671", "+1 (415) 555-2671", "[PHONE_1]"},
      {"card 4111 1111 1111 1111 was charged", "4111 1111 1111 1111", "[CARD_1]"},
      {"Карта 4400-4301-2345-6789 заблокирована", "4400-4301-2345-6789", "[CARD_1]"},
      {"amex 378282246310005.", "378282246310005", "[CARD_1]"},
      {"IBAN: KZ86125KZT5004100100", "KZ86125KZT5004100100", "[IBAN_1]"},
      {"Шот: KZ86 125K ZT50 0410 0100 (Halyk)", "KZ86 125K ZT50 0410 0100", "[IBAN_1]"},
      {"pay to GB82 WEST 1234 5698 7654 32 THANKS", "GB82 WEST 1234 5698 7654 32", "[IBAN_1]"},
      {"ЖСН 900101300126 бойынша", "900101300126", "[IIN_1]"},
      {"ИИН:851205401236;", "851205401236", "[IIN_1]"},
  };
  for (const Case& c : cases) {
    PiiMapping mapping;
    const std::string masked = Mask(c.text, mapping);
    EXPECT_EQ(masked.find(c.value), std::string::npos) << c.text << " → " << masked;
    EXPECT_NE(masked.find(c.placeholder), std::string::npos) << c.text << " → " << masked;
    EXPECT_EQ(mapping.unmask(masked), c.text);
  }
}

TEST(PiiMaskerTest, NumbersThatFailTheirChecksumAreLeftAlone) {
  const char* texts[] = {
      "order 4111 1111 1111 1112 shipped",   // Luhn fails: an order number, not a card
      "ref GB82 WEST 1234 5698 7654 33",     // mod 97 fails
      "contract 900101300127 signed",        // IIN check digit wrong
      "invoice 1234567890123",               // 13 digits, Luhn fails
      "room +1 23 45",                       // too few digits for a phone
  };
  for (const char* text : texts) {
    PiiMapping mapping;
    EXPECT_EQ(Mask(text, mapping), text);
    EXPECT_TRUE(mapping.empty()) << text;
  }
}

TEST(PiiMaskerTest, TheSameValueGetsTheSamePlaceholderWithinAMapping) {
  PiiMapping mapping;
  const std::string masked =
      Mask("From a@x.io to b@x.io, cc a@x.io; card 4111111111111111, again 4111111111111111", mapping);
  EXPECT_EQ(masked, "From [EMAIL_1] to [EMAIL_2], cc [EMAIL_1]; card [CARD_1], again [CARD_1]");
  EXPECT_EQ(mapping.counts().at("EMAIL"), 2);
  EXPECT_EQ(mapping.counts().at("CARD"), 1);
  // Written differently is another placeholder: unmasking gives back each as it was written
  // (a fuzz finding: "No@bank.kz" and "no@bank.kz" shared one and came back alike).
  const std::string variants = "No@x.io, no@x.io, 4111-1111-1111-1111";
  EXPECT_EQ(mapping.unmask(Mask(variants, mapping)), variants);
  // A later message of the same job goes on with the same mapping (No@ and no@ took 3 and 4).
  EXPECT_EQ(Mask("again b@x.io and c@x.io", mapping), "again [EMAIL_2] and [EMAIL_5]");
}

TEST(PiiMaskerTest, MaskingIsDeterministicFromTheInput) {
  const char* text = "+7 701 234 56 78, a@x.io, 4111111111111111, 900101300126, a@x.io";
  PiiMapping first, second;
  EXPECT_EQ(Mask(text, first), Mask(text, second));
  EXPECT_EQ(first.counts(), second.counts());
}

TEST(PiiMaskerTest, TheLongestOverlappingMatchWins) {
  PiiMapping mapping;
  // 16 digits: a card, not a 12-digit IIN inside it or a phone.
  EXPECT_EQ(Mask("n 4400430123456789 end", mapping), "n [CARD_1] end");
}

TEST(PiiMaskerTest, UnmaskRestoresOnlyPlaceholdersItHandedOut) {
  PiiMapping mapping;
  const std::string masked = Mask("mail a@x.io", mapping);
  ASSERT_EQ(masked, "mail [EMAIL_1]");
  EXPECT_EQ(mapping.unmask("[EMAIL_1] and [EMAIL_2] and [[EMAIL_1]] and [EMAIL_1"),
            "a@x.io and [EMAIL_2] and [a@x.io] and [EMAIL_1");
}

TEST(PiiMaskerTest, UnmaskReachesEveryStringOfAJsonAnswer) {
  PiiMapping mapping;
  Mask("a@x.io +7 701 234 56 78", mapping);
  json::value answer = json::parse(
      R"({"contact": "[EMAIL_1]", "phones": ["[PHONE_1]", 3], "nested": {"[EMAIL_1]": "call [PHONE_1]"}})");
  mapping.unmask(answer);
  EXPECT_EQ(answer, json::parse(R"({"contact": "a@x.io", "phones": ["+7 701 234 56 78", 3],
                                    "nested": {"a@x.io": "call +7 701 234 56 78"}})"));
}

TEST(PiiMaskerTest, ConfiguredRulesAddToTheBuiltInsOrReplaceThem) {
  PrivacyConfig config;
  config.rules.push_back({"PASSPORT", "\\bN\\d{8}\\b", "none"});
  auto masker = PiiMasker::FromConfig(config);
  ASSERT_TRUE(masker.ok()) << masker.status().ToString();
  PiiMapping mapping;
  EXPECT_EQ((*masker)->mask("passport N12345678, mail a@x.io", mapping),
            "passport [PASSPORT_1], mail [EMAIL_1]");

  config.builtin_rules = false;
  auto only_passports = PiiMasker::FromConfig(config);
  ASSERT_TRUE(only_passports.ok());
  PiiMapping other;
  EXPECT_EQ((*only_passports)->mask("passport N12345678, mail a@x.io", other),
            "passport [PASSPORT_1], mail a@x.io");
}

TEST(PiiMaskerTest, BadRulesAreRefusedNamingThem) {
  PrivacyConfig bad_pattern;
  bad_pattern.rules.push_back({"TAX", "(unclosed", "none"});
  auto a = PiiMasker::FromConfig(bad_pattern);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.status().message().find("TAX"), std::string::npos) << a.status().message();

  PrivacyConfig bad_check;
  bad_check.rules.push_back({"TAX", "\\d+", "crc32"});
  auto b = PiiMasker::FromConfig(bad_check);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().field(), "privacy.rule[0].check");

  PrivacyConfig bad_name;
  bad_name.rules.push_back({"tax id", "\\d+", "none"});
  auto c = PiiMasker::FromConfig(bad_name);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().field(), "privacy.rule[0].name");

  PrivacyConfig twice;
  twice.rules.push_back({"TAX", "\\d+", "none"});
  twice.rules.push_back({"TAX", "\\d+", "none"});
  EXPECT_FALSE(PiiMasker::FromConfig(twice).ok());
}

TEST(PiiMaskerTest, TextWithoutPiiComesBackAsItIs) {
  PiiMapping mapping;
  const char* text = "Здравствуйте! Сәлеметсіз бе! Hello: my order #12345 of 2026-11-02 is late.";
  EXPECT_EQ(Mask(text, mapping), text);
  EXPECT_TRUE(mapping.empty());
}

}  // namespace
}  // namespace sluice::privacy
