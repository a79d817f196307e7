// Masking applied to OpenAI chat bodies: what a provider is sent and what it answers.
#pragma once

#include <boost/json/fwd.hpp>

#include "privacy/pii_masker.h"

namespace sluice::privacy {

// Masks the text of every message of a chat request in place: a string `content`, and the
// `text` of each {"type": "text"} part of an array content. Other fields (model, params,
// tools) are the caller's configuration, not customer text, and are sent as they are.
void MaskChatRequest(const PiiMasker& masker, boost::json::object& request, PiiMapping& mapping);

// Unmasks a chat completion in place: every string of each choice's `message` (content,
// refusal, tool call arguments) and of a streamed chunk's `delta`.
void UnmaskChatCompletion(boost::json::object& completion, const PiiMapping& mapping);

}  // namespace sluice::privacy
