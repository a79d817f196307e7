#include "events/webhook_target.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include <boost/url/parse.hpp>

#include "events/address_class.h"

namespace sluice {

namespace {

std::string Normalized(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string out(host);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // "example.com." names the same host as "example.com".
  if (out.size() > 1 && out.back() == '.') out.pop_back();
  return out;
}

bool IsLocalhostName(const std::string& host) {
  return host == "localhost" || host.ends_with(".localhost") || host == "localhost.localdomain";
}

// The address as text, for comparing with allow-listed IP literals.
std::string AddressText(const sockaddr& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, &address, sizeof in);
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof text);
  } else if (address.sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &address, sizeof in6);
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof text);
  }
  return text;
}

// The canonical text of an IP literal (so "::0:1" matches "::1"), or the input unchanged.
std::string CanonicalIp(const std::string& host) {
  char text[INET6_ADDRSTRLEN] = {};
  in6_addr a6;
  in_addr a4;
  if (inet_pton(AF_INET6, host.c_str(), &a6) == 1) {
    inet_ntop(AF_INET6, &a6, text, sizeof text);
    return text;
  }
  if (inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    inet_ntop(AF_INET, &a4, text, sizeof text);
    return text;
  }
  return host;
}

}  // namespace

std::string UrlHost(std::string_view url) {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return {};
  return Normalized(parsed->encoded_host());
}

WebhookTargetPolicy::WebhookTargetPolicy(std::vector<std::string> allow_hosts) {
  for (const std::string& host : allow_hosts) allow_hosts_.push_back(CanonicalIp(Normalized(host)));
}

bool WebhookTargetPolicy::host_allowed(std::string_view host) const {
  const std::string wanted = CanonicalIp(Normalized(host));
  return std::find(allow_hosts_.begin(), allow_hosts_.end(), wanted) != allow_hosts_.end();
}

Status WebhookTargetPolicy::check_url(std::string_view url) const {
  auto parsed = boost::urls::parse_uri(url);
  if (!parsed) return InvalidArgument("webhook_url is not a valid URL", "webhook_url");
  std::string scheme(parsed->scheme());
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != "http" && scheme != "https") {
    return InvalidArgument("webhook_url must be an http or https URL", "webhook_url");
  }
  if (parsed->has_userinfo()) {
    return InvalidArgument("webhook_url must not carry credentials (user:password@)",
                           "webhook_url");
  }
  const std::string host = Normalized(parsed->encoded_host());
  if (host.empty()) return InvalidArgument("webhook_url has no host", "webhook_url");
  if (host_allowed(host)) return Status::Ok();
  if (IsLocalhostName(host)) {
    return InvalidArgument(
               "webhook_url points at this machine (localhost); list the host in [webhooks] "
               "allow_hosts to allow it",
               "webhook_url")
        .with_error_code("ssrf_refused");
  }
  if (auto c = ClassifyIpLiteral(host); c && !IsPublic(*c)) {
    return InvalidArgument(std::string("webhook_url points at a ") + AddressClassName(*c) +
                               " address; list the host in [webhooks] allow_hosts to allow it",
                           "webhook_url")
        .with_error_code("ssrf_refused");
  }
  return Status::Ok();
}

std::string WebhookTargetPolicy::check_connect(std::string_view host,
                                               const sockaddr& address) const {
  if (host_allowed(host)) return {};
  const AddressClass c = ClassifyAddress(address);
  if (IsPublic(c)) return {};
  const std::string text = AddressText(address);
  if (!text.empty() && host_allowed(text)) return {};
  return std::string("refused to connect to ") + (text.empty() ? "an address" : text) + " (" +
         AddressClassName(c) + ") for host " + std::string(host) +
         ": not a public address and the host is not in [webhooks] allow_hosts";
}

}  // namespace sluice
