#include "api/webhook_url_field.h"

#include <boost/json.hpp>

#include "events/webhook_target.h"

namespace sluice {

Result<std::string> ParseWebhookUrl(const boost::json::object& body,
                                    const std::vector<std::string>& allow_hosts) {
  const boost::json::value* v = body.if_contains("webhook_url");
  if (!v || v->is_null()) return std::string();
  if (!v->is_string()) return InvalidArgument("webhook_url must be a string", "webhook_url");
  if (v->as_string().size() > kMaxWebhookUrl) {
    return InvalidArgument("webhook_url is longer than " + std::to_string(kMaxWebhookUrl) + " bytes",
                           "webhook_url");
  }
  std::string url(v->as_string());
  if (url.empty()) return url;
  // What can be known without DNS; the delivery checks every resolved address again.
  RETURN_IF_ERROR(WebhookTargetPolicy(allow_hosts).check_url(url));
  return url;
}

}  // namespace sluice
