// The answer engine: makes a plausible model answer with no model at all. It backs both the
// `sluice mock-llm` simulator and the built-in `local` provider (the last resort of a fallback
// chain), so the demo and the tests produce meaningful output with no network.
//
// Given an OpenAI chat-completions request body it answers:
// - with response_format json_schema: a JSON object that validates against that schema
//   (enum fields by keyword match on the user text, string fields by sentence extraction or by
//   pattern: dates, amounts, phones, emails, IBANs, contract numbers; numbers and booleans
//   from cues in the text);
// - with response_format json_object: {"answer": "<the summary below>"};
// - otherwise: an extractive summary of the last user message (its first one to three
//   informative sentences: no greetings, sign-offs, or instructions to the model).
// The text answered about is the last user message (string content, or the text parts of an
// array of content parts). schema_filler.h tells how each kind of field is filled.
// Deterministic: the same request gives the same answer.
#pragma once

#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace sluice::answer {

struct Answer {
  std::string content;  // the assistant message text (JSON text when a schema was asked for)
  int prompt_tokens = 0;
  int completion_tokens = 0;
};

Answer AnswerChat(const boost::json::object& request);

// A cheap token estimate (~4 characters of English, ~2.5 of Cyrillic, per token), used for
// usage counts and for limits before a provider reports real usage.
int EstimateTokens(std::string_view text);

}  // namespace sluice::answer
