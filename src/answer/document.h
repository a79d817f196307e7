// The text an answer is about (the last user message) with its words, sentences and typed
// facts, each computed on first use. One Document per request; not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "answer/patterns.h"

namespace sluice::answer {

class Document {
 public:
  explicit Document(std::string text) : text_(std::move(text)) {}

  const std::string& text() const { return text_; }
  // Normalized words (see SplitWords).
  const std::vector<std::string>& words() const;
  const std::vector<std::string>& sentences() const;
  // The sentences worth repeating: no greetings, sign-offs or instructions to the model.
  const std::vector<std::string>& informative_sentences() const;
  bool cyrillic() const;

  const std::vector<Found>& dates() const;
  const std::vector<Amount>& amounts() const;
  const std::vector<Found>& phones() const;
  const std::vector<Found>& emails() const;
  const std::vector<Found>& ibans() const;
  const std::vector<Found>& contract_numbers() const;
  const std::vector<Found>& parties() const;

 private:
  std::string text_;
  mutable std::optional<std::vector<std::string>> words_;
  mutable std::optional<std::vector<std::string>> sentences_;
  mutable std::optional<std::vector<std::string>> informative_;
  mutable std::optional<std::vector<Found>> dates_, phones_, emails_, ibans_, contracts_, parties_;
  mutable std::optional<std::vector<Amount>> amounts_;
};

}  // namespace sluice::answer
