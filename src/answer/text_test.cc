#include "answer/text.h"

#include <gtest/gtest.h>

namespace sluice::answer {
namespace {

TEST(NormalizeForMatch, LowercasesLatinAndCyrillicAndFoldsYo) {
  EXPECT_EQ(NormalizeForMatch("ПРИВЕТ Ёлка Can't DÉJÀ"), "привет елка cant déjà");
  EXPECT_EQ(NormalizeForMatch("Карта ЗАБЛОКИРОВАНА"), "карта заблокирована");
}

TEST(SplitWords, KeepsCyrillicWordsAndJoinsApostrophes) {
  std::vector<std::string> words = SplitWords("Перевод не пришёл! I can't log-in, №45");
  std::vector<std::string> expected = {"перевод", "не", "пришел", "i", "cant", "log", "in", "45"};
  EXPECT_EQ(words, expected);
}

TEST(SplitSentences, SplitsOnTerminatorsButNotAbbreviationsOrNumbers) {
  std::vector<std::string> s = SplitSentences(
      "Contract No. 2024-117 was signed. The total is $1,250.00 today! Is it paid? Yes.");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "Contract No. 2024-117 was signed.");
  EXPECT_EQ(s[1], "The total is $1,250.00 today!");
  EXPECT_EQ(s[2], "Is it paid?");
  EXPECT_EQ(s[3], "Yes.");
}

TEST(SplitSentences, HandlesRussianAndLineBreaks) {
  std::vector<std::string> s = SplitSentences(
      "Здравствуйте!\nСписали 1 250 руб. Прошу вернуть деньги\nкак можно скорее.\n\n- пункт один");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[0], "Здравствуйте!");
  EXPECT_EQ(s[1], "Списали 1 250 руб.");
  EXPECT_EQ(s[2], "Прошу вернуть деньги как можно скорее.");
  EXPECT_EQ(s[3], "пункт один");
}

TEST(SplitSentences, DropsTagLinesAndKeepsSalutationLinesApart) {
  std::vector<std::string> s =
      SplitSentences("Classify this.\n\n<ticket>\nздравствуйте\nвнес 8 600 $ в счет погашения\n</ticket>");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[1], "здравствуйте");
  EXPECT_EQ(s[2], "внес 8 600 $ в счет погашения");
  s = SplitSentences("Dear Sir or Madam,\nmy card was\nblocked today.\nBest regards,\nAnna Smith");
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s[1], "my card was blocked today.");
}

TEST(ScriptCounts, CountsCodePointsPerScript) {
  ScriptCounts c = CountScripts("ab Жж €");
  EXPECT_EQ(c.ascii, 4u);
  EXPECT_EQ(c.cyrillic, 2u);
  EXPECT_EQ(c.other, 1u);
  EXPECT_TRUE(MostlyCyrillic("Привет, это John"));
  EXPECT_FALSE(MostlyCyrillic("Hello, это John"));
}

TEST(TruncateCodePoints, NeverSplitsACodePoint) {
  EXPECT_EQ(TruncateCodePoints("Привет", 3), "При");
  EXPECT_EQ(TruncateCodePoints("ab", 5), "ab");
  EXPECT_EQ(CodePointCount("Привет"), 6u);
}

TEST(CapitalizeFirst, LatinAndCyrillic) {
  EXPECT_EQ(CapitalizeFirst("у меня"), "У меня");
  EXPECT_EQ(CapitalizeFirst("ёлка"), "Ёлка");
  EXPECT_EQ(CapitalizeFirst("abc"), "Abc");
  EXPECT_EQ(CapitalizeFirst("1abc"), "1abc");
}

TEST(Trim, TrimsSpacesAndNbsp) { EXPECT_EQ(Trim("\xC2\xA0 hi \n"), "hi"); }

}  // namespace
}  // namespace sluice::answer
