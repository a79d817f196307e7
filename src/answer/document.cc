#include "answer/document.h"

#include "answer/summarize.h"
#include "answer/text.h"

namespace sluice::answer {
namespace {

template <typename T, typename Make>
const T& Lazy(std::optional<T>& slot, Make make) {
  if (!slot) slot = make();
  return *slot;
}

}  // namespace

const std::vector<std::string>& Document::words() const {
  return Lazy(words_, [&] { return SplitWords(text_); });
}

const std::vector<std::string>& Document::sentences() const {
  return Lazy(sentences_, [&] { return SplitSentences(text_); });
}

const std::vector<std::string>& Document::informative_sentences() const {
  return Lazy(informative_, [&] {
    std::vector<std::string> kept;
    for (const std::string& s : sentences()) {
      if (IsInformativeSentence(s)) kept.push_back(StripSalutation(s));
    }
    return kept;
  });
}

bool Document::cyrillic() const { return MostlyCyrillic(text_); }

const std::vector<Found>& Document::dates() const {
  return Lazy(dates_, [&] { return FindDates(text_); });
}
const std::vector<Amount>& Document::amounts() const {
  return Lazy(amounts_, [&] { return FindAmounts(text_); });
}
const std::vector<Found>& Document::phones() const {
  return Lazy(phones_, [&] { return FindPhones(text_, ibans(), dates()); });
}
const std::vector<Found>& Document::emails() const {
  return Lazy(emails_, [&] { return FindEmails(text_); });
}
const std::vector<Found>& Document::ibans() const {
  return Lazy(ibans_, [&] { return FindIbans(text_); });
}
const std::vector<Found>& Document::contract_numbers() const {
  return Lazy(contracts_, [&] { return FindContractNumbers(text_); });
}
const std::vector<Found>& Document::parties() const {
  return Lazy(parties_, [&] { return FindParties(text_); });
}

}  // namespace sluice::answer
