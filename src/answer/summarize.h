// Extractive summaries: the answer engine never writes new prose, it picks the document's own
// informative sentences, so a summary is plausible in any language the document is in.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace sluice::answer {

class Document;

// False for greetings and sign-offs ("Hello!", "Спасибо."), headers ("Ticket text:"),
// fragments of fewer than three words, and instructions to the model ("Classify this
// ticket.", "Answer JSON.", "Кратко перескажи текст.").
bool IsInformativeSentence(std::string_view sentence);

// The sentence without a leading salutation clause: "Dear bank, I want to repay" -> "I want
// to repay"; "Добрый день, у меня ..." -> "У меня ...". Other sentences are returned as is.
std::string StripSalutation(std::string_view sentence);

// Up to `max_sentences` informative sentences in text order, within `max_chars` code points;
// a first sentence longer than that is cut at a word and ends with "…". With no informative
// sentence it uses the plain ones; an empty document gives "".
std::string Summarize(const Document& doc, std::size_t max_sentences, std::size_t max_chars);

}  // namespace sluice::answer
