#include "answer/summarize.h"

#include <algorithm>
#include <span>
#include <vector>

#include "answer/document.h"
#include "answer/text.h"

namespace sluice::answer {
namespace {

// First words of an instruction to the model rather than of the document.
constexpr std::string_view kInstructionWords[] = {
    "classify", "summarize", "summarise", "extract", "answer", "return", "respond", "output",
    "translate", "analyze", "analyse", "determine", "identify", "categorize", "categorise",
    "label", "here", "below", "given", "you", "your", "task", "instructions", "классифицируй",
    "определи", "извлеки", "кратко", "перескажи", "ответь", "верни", "проанализируй", "суммируй",
    "сделай", "выдели", "категоризируй", "ниже", "вот", "ты", "твоя", "задача"};

constexpr std::string_view kGreetingWords[] = {
    "hello", "hi", "hey", "dear", "good", "greetings", "thanks", "thank", "regards", "best",
    "kind", "sincerely", "cheers", "здравствуйте", "привет", "добрый", "доброе", "доброй",
    "уважаемый", "уважаемая", "уважаемые", "спасибо", "заранее"};

bool In(std::string_view word, std::span<const std::string_view> set) {
  return std::find(set.begin(), set.end(), word) != set.end();
}

std::string CutAtWord(std::string_view sentence, std::size_t max_chars) {
  std::string cut = TruncateCodePoints(sentence, max_chars > 1 ? max_chars - 1 : 0);
  std::size_t space = cut.rfind(' ');
  if (space != std::string::npos && space > cut.size() / 2) cut.resize(space);
  while (!cut.empty() && (cut.back() == ',' || cut.back() == ' ' || cut.back() == ';')) cut.pop_back();
  return cut + "\u2026";
}

// First words of a salutation clause ("Dear team,", "Добрый день,").
constexpr std::string_view kSalutationWords[] = {
    "dear", "hello", "hi", "hey", "good", "greetings", "здравствуйте", "добрый", "доброе",
    "доброй", "уважаемый", "уважаемая", "уважаемые", "привет"};

}  // namespace

std::string StripSalutation(std::string_view sentence) {
  std::size_t comma = sentence.find(',');
  if (comma == std::string_view::npos || comma > 60) return std::string(sentence);
  std::vector<std::string> head = SplitWords(sentence.substr(0, comma));
  if (head.empty() || head.size() > 3 || !In(head[0], kSalutationWords)) return std::string(sentence);
  std::string_view rest = Trim(sentence.substr(comma + 1));
  if (SplitWords(rest).size() < 3) return std::string(sentence);
  return CapitalizeFirst(rest);
}

bool IsInformativeSentence(std::string_view sentence) {
  std::vector<std::string> words = SplitWords(sentence);
  if (words.size() < 3) return false;
  if (std::find(words.begin(), words.end(), "json") != words.end()) return false;
  std::string_view first = words[0];
  if ((first == "please" || first == "пожалуйста") && words.size() > 1) first = words[1];
  if (In(first, kInstructionWords)) return false;
  if (words.size() <= 5 && In(words[0], kGreetingWords)) return false;
  if (words.size() <= 5 && words[0] == "с" && words[1] == "уважением") return false;
  std::string_view trimmed = Trim(sentence);
  if (words.size() <= 4 && !trimmed.empty() && trimmed.back() == ':') return false;
  return true;
}

std::string Summarize(const Document& doc, std::size_t max_sentences, std::size_t max_chars) {
  const std::vector<std::string>* pool = &doc.informative_sentences();
  if (pool->empty()) pool = &doc.sentences();
  if (pool->empty() || max_sentences == 0) return "";
  std::string summary;
  std::size_t length = 0;
  for (std::size_t i = 0; i < pool->size() && i < max_sentences; ++i) {
    const std::string& sentence = (*pool)[i];
    std::size_t n = CodePointCount(sentence);
    if (summary.empty()) {
      if (n > max_chars) return CapitalizeFirst(CutAtWord(sentence, max_chars));
      summary = CapitalizeFirst(sentence);
      length = n;
      continue;
    }
    if (length + 1 + n > max_chars) break;
    summary += ' ';
    summary += sentence;
    length += 1 + n;
  }
  return summary;
}

}  // namespace sluice::answer
