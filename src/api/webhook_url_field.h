// The `webhook_url` field of a request body, read the one way every resource that takes one
// (POST /v1/jobs, POST /v1/batches) reads it, so that the same URL is accepted or refused,
// with the same error, wherever it is given.
#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "core/status.h"

namespace sluice {

inline constexpr std::size_t kMaxWebhookUrl = 2048;

// Absent, null or "" → "" (no webhook). Otherwise a string of at most kMaxWebhookUrl bytes that
// passes the submit-time SSRF guard (WebhookTargetPolicy::check_url with `allow_hosts`, the
// [webhooks] exceptions). Errors are kInvalidArgument on field "webhook_url" (code
// ssrf_refused for a forbidden target).
Result<std::string> ParseWebhookUrl(const boost::json::object& body,
                                    const std::vector<std::string>& allow_hosts);

}  // namespace sluice
