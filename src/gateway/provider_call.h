// One call to one model alias, without policy: how the request goes out (URL, headers, the
// alias's model id and default params) and what the answer means (CallResult). The fallback,
// circuit and limit policy around it lives in gateway.cc.
#pragma once

#include <string>

#include <boost/json/object.hpp>

#include "config/config.h"
#include "gateway/gateway.h"
#include "gateway/http_client.h"

namespace sluice {

// Sets "model" to the alias's provider model id and merges the alias's default params under
// the request's own.
void PrepareRequestBody(const ModelConfig& model, boost::json::object& request);

HttpRequest BuildProviderRequest(const ProviderConfig& provider, const std::string& api_key,
                                 const boost::json::object& body, Millis timeout);

// Classifies a provider's answer (see the error classes in gateway.h); usage and cost included.
CallResult ClassifyResponse(const ModelConfig& model, const HttpResponse& response, Millis started);

// The built-in `local` provider: the answer engine, in-process.
CallResult AnswerLocally(const ModelConfig& model, const boost::json::object& request, Millis started,
                         const Clock& clock);

// What a call's usage costs at the alias's prices, rounded to a whole nano-USD (the cost
// ledger's unit, store/cost_records.h), so that an attempt's cost_usd and its ledger row agree
// exactly. cached_tokens (of the prompt) are priced at cached_input_usd_per_mtok and
// reasoning_tokens (of the completion) at reasoning_usd_per_mtok where the alias sets them,
// else at the input and output prices; each is capped by the count it is part of.
double CallCost(const ModelConfig& model, int prompt_tokens, int completion_tokens,
                int cached_tokens = 0, int reasoning_tokens = 0);

// Tokens a request may use: its prompt (estimated) plus n × its max_tokens (or a default).
std::int64_t EstimateRequestTokens(const boost::json::object& request);
// The most a call could cost: the estimate above at the alias's prices.
double EstimateCallCost(const ModelConfig& model, const boost::json::object& request);

}  // namespace sluice
