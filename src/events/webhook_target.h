// Where a webhook may go: the SSRF guard of [webhooks]. A webhook is a request Sluice makes on
// a client's behalf to a URL the client chose, so without a guard any client could make the
// server reach what only the server can reach: its own admin ports, the database, the cloud
// metadata service at 169.254.169.254. Targets must therefore resolve to public addresses,
// unless their host is listed in [webhooks] allow_hosts (receivers on a private network).
//
// Two checks, because DNS is only known at delivery time:
// - check_url, at submit: what the URL alone tells — scheme http/https, a host, not
//   "localhost", not an IP literal of a forbidden class. A refusal is a 400 on webhook_url.
// - check_connect, at delivery, on every address the client is about to connect to (after
//   DNS): the address checked is the one connected, so a name that resolves to a public
//   address when checked and to 127.0.0.1 when used (DNS rebinding) gains nothing.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct sockaddr;

namespace sluice {

class WebhookTargetPolicy {
 public:
  // `allow_hosts`: host names or IP literals (IPv6 with or without brackets), matched without
  // regard to case against the URL's host; an IP literal also allows connecting to that
  // address whatever name led there.
  explicit WebhookTargetPolicy(std::vector<std::string> allow_hosts);

  // OK, or kInvalidArgument with field "webhook_url" saying what is wrong.
  Status check_url(std::string_view url) const;
  // Empty when the connection to `address` (for a URL whose host is `host`) may go ahead, else
  // why not. `address` must point to storage of its family's full size (sockaddr_in6 for
  // AF_INET6).
  std::string check_connect(std::string_view host, const sockaddr& address) const;

  bool host_allowed(std::string_view host) const;

 private:
  std::vector<std::string> allow_hosts_;  // lower case, no brackets
};

// The host of an http(s) URL, lower case, IPv6 without brackets; empty when there is none or
// the URL does not parse.
std::string UrlHost(std::string_view url);

}  // namespace sluice
