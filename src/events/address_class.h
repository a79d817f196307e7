// What kind of network an IP address belongs to, for the webhook SSRF guard
// (webhook_target.h): a webhook may only go to a public address unless its host is allowed.
#pragma once

#include <optional>
#include <string_view>

struct sockaddr;

namespace sluice {

enum class AddressClass {
  kPublic,
  kUnspecified,  // 0.0.0.0/8, ::
  kLoopback,     // 127.0.0.0/8, ::1
  kPrivate,      // 10/8, 172.16/12, 192.168/16, fec0::/10 (old site-local), 64:ff9b:1::/48
  kSharedCgnat,  // 100.64.0.0/10
  kLinkLocal,    // 169.254/16 (the cloud metadata address 169.254.169.254), fe80::/10
  kUniqueLocal,  // fc00::/7
  kMulticast,    // 224/4, ff00::/8
  kReserved,     // 192.0.0/24, 198.18/15, 240/4 (and 255.255.255.255), 100::/64, 2001:db8::/32
};

const char* AddressClassName(AddressClass c);
inline bool IsPublic(AddressClass c) { return c == AddressClass::kPublic; }

// An IPv4 or IPv6 socket address; other families are kReserved. IPv6 forms that carry an IPv4
// address (IPv4-mapped ::ffff:a.b.c.d, IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d, 6to4
// 2002:AABB:CCDD::) are classed by that IPv4 address.
AddressClass ClassifyAddress(const sockaddr& address);

// An IP literal as a URL host names it: IPv6 with or without brackets (a zone "%eth0" is
// ignored), IPv4 in any form the resolver accepts ("127.1", "0x7f.0.0.1", "2130706433", as
// inet_aton reads them: what libcurl would connect to). nullopt when `host` is not a literal.
std::optional<AddressClass> ClassifyIpLiteral(std::string_view host);

}  // namespace sluice
