#include "answer/keywords.h"

#include <gtest/gtest.h>

#include "answer/text.h"

namespace sluice::answer {
namespace {

const std::vector<std::string> kCategories = {"double_charge", "missing_transfer", "early_repayment",
                                              "card_blocked",  "login_problem",    "phone_change",
                                              "fraud",         "other"};

std::string Classify(const std::string& text, const std::vector<std::string>& values = kCategories) {
  return values[ChooseEnumValue(values, SplitWords(text), text).index];
}

struct Case {
  const char* expected;
  const char* text;
};

class TicketCategoryTest : public ::testing::TestWithParam<Case> {};

TEST_P(TicketCategoryTest, ChoosesTheCategory) {
  EXPECT_EQ(Classify(GetParam().text), GetParam().expected) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    English, TicketCategoryTest,
    ::testing::Values(
        Case{"double_charge", "Hello, I was charged twice for the same purchase yesterday. Please refund one."},
        Case{"missing_transfer", "I sent a transfer of $500 to my sister on Monday and it still has not arrived."},
        Case{"early_repayment", "I would like to make an early repayment of my loan next month."},
        Case{"card_blocked", "My card was blocked after I entered the wrong PIN three times."},
        Case{"login_problem", "I can't log in to the mobile app, it says my password is wrong."},
        Case{"phone_change", "I got a new phone number and need to change it in my profile."},
        Case{"fraud", "Someone made an unauthorized payment from my account, I think it is fraud."},
        Case{"other", "What are your branch opening hours on Saturday?"}));

INSTANTIATE_TEST_SUITE_P(
    Russian, TicketCategoryTest,
    ::testing::Values(
        Case{"double_charge", "Здравствуйте! С моей карты дважды списали 1 250 руб за одну покупку."},
        Case{"double_charge", "За одну поездку в такси списали два раза, верните деньги."},
        Case{"missing_transfer", "Перевод на 5000 рублей не пришёл получателю уже третий день."},
        Case{"early_repayment", "Хочу сделать досрочное погашение кредита в следующем месяце."},
        Case{"card_blocked", "Моя карта заблокирована, не могу расплатиться в магазине."},
        Case{"login_problem", "Не могу войти в приложение, пишет неверный пароль."},
        Case{"phone_change", "Хочу сменить номер телефона, привязанный к счёту."},
        Case{"fraud", "Мошенники списали деньги с моего счета, я не совершал этих операций."},
        Case{"other", "Подскажите, какие часы работы отделения в субботу?"}));

TEST(ChooseEnumValue, TheFirstIssueWinsOverOneRaisedInPassing) {
  EXPECT_EQ(Classify("Please update my home address. By the way, I was double charged 500 RUB at Wolt."),
            "other");
  EXPECT_EQ(Classify("Face ID stopped working for login. And I have a new phone number now: +7 700 000 00 00."),
            "login_problem");
  EXPECT_EQ(Classify("В Magnum с меня два раза сняли 2000 руб. Кстати, перевод маме тоже не пришёл."),
            "double_charge");
  EXPECT_EQ(Classify("Перевод маме не пришёл. Кстати, в Magnum с меня два раза сняли 2000 руб."),
            "missing_transfer");
}

TEST(ChooseEnumValue, AskingToBlockACardIsFraudNotABlockedCard) {
  EXPECT_EQ(Classify("Позвонили якобы из банка, я продиктовал код из СМС. Заблокируйте карту!"), "fraud");
  EXPECT_EQ(Classify("Someone called me pretending to be the bank. Please block the card."), "fraud");
  EXPECT_EQ(Classify("Карту заблокировали без причины, разблокируйте."), "card_blocked");
}

TEST(ChooseEnumValue, SynonymGroupsApplyToAliasNames) {
  std::vector<std::string> values = {"loan", "blocked_card", "misc"};
  EXPECT_EQ(Classify("Хочу досрочно погасить ипотеку", values), "loan");
  EXPECT_EQ(Classify("Карту заблокировали без причины", values), "blocked_card");
  EXPECT_EQ(Classify("Просто вопрос", values), "misc");
}

TEST(ChooseEnumValue, DerivesCuesFromUnknownValueNames) {
  std::vector<std::string> values = {"payment_dispute", "address_update"};
  EXPECT_EQ(Classify("I want to update my address please", values), "address_update");
  EXPECT_EQ(Classify("I dispute this payment", values), "payment_dispute");
}

TEST(ChooseEnumValue, FallsBackToOtherLikeThenFirst) {
  EXPECT_EQ(Classify("nothing here", {"alpha", "neutral", "beta"}), "neutral");
  EXPECT_EQ(Classify("nothing here", {"alpha", "beta"}), "alpha");
  EXPECT_EQ(Classify("urgent!!! the app crashed", {"low", "medium", "high"}), "high");
  EXPECT_EQ(Classify("a question about fees", {"low", "medium", "high"}), "medium");
}

TEST(ChooseEnumValue, LanguageByScript) {
  EXPECT_EQ(Classify("Не могу войти", {"en", "ru"}), "ru");
  EXPECT_EQ(Classify("Cannot log in", {"en", "ru"}), "en");
}

TEST(ConfidenceFor, GrowsWithScoreAndLead) {
  EXPECT_DOUBLE_EQ(ConfidenceFor({0, 0, 0}), 0.55);
  double weak = ConfidenceFor({0, 1, 1});
  double strong = ConfidenceFor({0, 12, 0});
  EXPECT_GT(weak, 0.55);
  EXPECT_GT(strong, weak);
  EXPECT_LE(strong, 0.95);
}

TEST(UrgencyCues, EnglishRussianAndFraud) {
  EXPECT_GT(ScoreCues(SplitWords("Please fix this URGENTLY"), UrgencyCues()), 0);
  EXPECT_GT(ScoreCues(SplitWords("Срочно заблокируйте карту"), UrgencyCues()), 0);
  EXPECT_GT(ScoreCues(SplitWords("my card was stolen"), UrgencyCues()), 0);
  EXPECT_EQ(ScoreCues(SplitWords("what are the opening hours"), UrgencyCues()), 0);
  EXPECT_LE(ScoreCues(SplitWords("Нужна справка. Не срочно."), UrgencyCues()), 0);
  EXPECT_LE(ScoreCues(SplitWords("Urgent? No rush, really."), UrgencyCues()), 0);
}

TEST(ScoreCues, PhrasesNeedConsecutiveWordPrefixes) {
  std::vector<Cue> cues = {{"не приш", 2}, {"карт&заблок", 3}};
  EXPECT_EQ(ScoreCues(SplitWords("деньги не пришли"), cues), 2);
  EXPECT_EQ(ScoreCues(SplitWords("не деньги пришли"), cues), 0);
  EXPECT_EQ(ScoreCues(SplitWords("заблокировали мою карту"), cues), 3);
  EXPECT_EQ(ScoreCues(SplitWords("нет, пришли"), cues), 0);  // "не" must be a whole word
}

}  // namespace
}  // namespace sluice::answer
