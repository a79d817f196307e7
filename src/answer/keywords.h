// Keyword cues: how strongly a text speaks of something, in English and Russian. Used to pick
// an enum value (a ticket category, a priority, a sentiment), to set confidence, and to answer
// boolean questions such as "urgent".
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::answer {

// One cue, written in lowercase with "е" for "ё" and no apostrophes ("cant"):
//   "charg twice"   consecutive words, each a word prefix ("charged twice"); a pattern word of
//                   one or two letters must match a whole word ("не", "in");
//   "карт&заблок"   every part somewhere in the text, in any order.
// The weight says how telling the cue is; a text's score is the sum over the cues it has.
struct Cue {
  std::string pattern;
  int weight = 1;
};

// Score of `words` (as from SplitWords) against `cues`. Each cue counts at most once.
int ScoreCues(const std::vector<std::string>& words, std::span<const Cue> cues);

// Cues of urgency, including fraud and theft ("urgent", "срочно", "stolen", "мошенники").
std::span<const Cue> UrgencyCues();
// Cues of fraud ("fraud", "unauthorized", "мошенники", "украли").
std::span<const Cue> FraudCues();

// The built-in cues for an enum value: those of its synonym group (bank-ticket categories
// such as double_charge or card_blocked, priorities, sentiments) when the value names one,
// plus cues derived from the value's own words ("payment_dispute" -> "payment", "disput").
std::vector<Cue> CuesForValue(std::string_view value);

// Cues prepared for matching: every pattern split once into its '&' parts and their words.
// Cue matching runs for every enum value on every job of the `local` model, so the tables are
// prepared once (the built-in ones at first use, an enum value's on its first sight, cached)
// and are immutable after, shared between threads. Same scores as the Cue lists they come from.
class CompiledCues;
int ScoreCues(const std::vector<std::string>& words, const CompiledCues& cues);
const CompiledCues& CompiledUrgencyCues();
const CompiledCues& CompiledFraudCues();
// CuesForValue(value), prepared; cached per value name.
std::shared_ptr<const CompiledCues> CompiledCuesForValue(std::string_view value);

struct EnumChoice {
  std::size_t index = 0;  // into the candidate list
  int score = 0;          // of the chosen value; 0 when it was a fallback
  int runner_up = 0;      // the best score among the other values
};

// Picks the value whose cues score highest on `words` (ties: the earlier value). With no cue
// at all it falls back to an "other"-like value (other, unknown, general, neutral, normal,
// medium, ...) if there is one, else the first. Language-code enums (en/ru, english/russian)
// are chosen by the script of `text`. `values` must not be empty.
EnumChoice ChooseEnumValue(const std::vector<std::string>& values, const std::vector<std::string>& words,
                           std::string_view text);

// A confidence in [0.55, 0.95] from a choice: higher with a stronger score and a clearer lead.
double ConfidenceFor(const EnumChoice& choice);

}  // namespace sluice::answer
