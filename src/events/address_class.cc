#include "events/address_class.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice {

namespace {

using V6 = std::array<std::uint8_t, 16>;

bool InV4(std::uint32_t a, std::uint32_t net, int bits) {
  const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr std::uint32_t V4(int a, int b, int c, int d) {
  return static_cast<std::uint32_t>(a) << 24 | static_cast<std::uint32_t>(b) << 16 |
         static_cast<std::uint32_t>(c) << 8 | static_cast<std::uint32_t>(d);
}

// `a` in host byte order.
AddressClass ClassifyV4(std::uint32_t a) {
  if (InV4(a, V4(0, 0, 0, 0), 8)) return AddressClass::kUnspecified;
  if (InV4(a, V4(127, 0, 0, 0), 8)) return AddressClass::kLoopback;
  if (InV4(a, V4(10, 0, 0, 0), 8) || InV4(a, V4(172, 16, 0, 0), 12) ||
      InV4(a, V4(192, 168, 0, 0), 16)) {
    return AddressClass::kPrivate;
  }
  if (InV4(a, V4(100, 64, 0, 0), 10)) return AddressClass::kSharedCgnat;
  if (InV4(a, V4(169, 254, 0, 0), 16)) return AddressClass::kLinkLocal;
  if (InV4(a, V4(224, 0, 0, 0), 4)) return AddressClass::kMulticast;
  if (InV4(a, V4(192, 0, 0, 0), 24) || InV4(a, V4(198, 18, 0, 0), 15) ||
      InV4(a, V4(240, 0, 0, 0), 4)) {
    return AddressClass::kReserved;
  }
  return AddressClass::kPublic;
}

std::uint32_t V4At(const V6& b, int at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | static_cast<std::uint32_t>(b[at + 3]);
}

bool StartsWith(const V6& b, std::initializer_list<std::uint8_t> prefix) {
  int i = 0;
  for (std::uint8_t p : prefix) {
    if (b[i++] != p) return false;
  }
  return true;
}

AddressClass ClassifyV6(const V6& b) {
  bool zero96 = true;
  for (int i = 0; i < 12; ++i) zero96 = zero96 && b[i] == 0;
  if (zero96) {
    const std::uint32_t low = V4At(b, 12);
    if (low == 0) return AddressClass::kUnspecified;
    if (low == 1) return AddressClass::kLoopback;
    return ClassifyV4(low);  // IPv4-compatible (deprecated, but a stack may still route it)
  }
  bool mapped = true;
  for (int i = 0; i < 10; ++i) mapped = mapped && b[i] == 0;
  if (mapped && b[10] == 0xff && b[11] == 0xff) return ClassifyV4(V4At(b, 12));
  if (StartsWith(b, {0x00, 0x64, 0xff, 0x9b, 0x00, 0x01})) return AddressClass::kPrivate;
  if (StartsWith(b, {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    return ClassifyV4(V4At(b, 12));  // NAT64: the IPv4 address it reaches
  }
  if (StartsWith(b, {0x20, 0x02})) return ClassifyV4(V4At(b, 2));  // 6to4
  if (b[0] == 0xff) return AddressClass::kMulticast;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return AddressClass::kLinkLocal;
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return AddressClass::kPrivate;
  if ((b[0] & 0xfe) == 0xfc) return AddressClass::kUniqueLocal;
  if (StartsWith(b, {0x01, 0x00, 0, 0, 0, 0, 0, 0})) return AddressClass::kReserved;
  if (StartsWith(b, {0x20, 0x01, 0x0d, 0xb8})) return AddressClass::kReserved;
  return AddressClass::kPublic;
}

}  // namespace

const char* AddressClassName(AddressClass c) {
  switch (c) {
    case AddressClass::kPublic:
      return "public";
    case AddressClass::kUnspecified:
      return "unspecified";
    case AddressClass::kLoopback:
      return "loopback";
    case AddressClass::kPrivate:
      return "private";
    case AddressClass::kSharedCgnat:
      return "shared (CGNAT)";
    case AddressClass::kLinkLocal:
      return "link-local";
    case AddressClass::kUniqueLocal:
      return "unique-local";
    case AddressClass::kMulticast:
      return "multicast";
    case AddressClass::kReserved:
      return "reserved";
  }
  return "reserved";
}

AddressClass ClassifyAddress(const sockaddr& address) {
  if (address.sa_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, &address, sizeof in);
    return ClassifyV4(ntohl(in.sin_addr.s_addr));
  }
  if (address.sa_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &address, sizeof in6);
    V6 bytes;
    std::memcpy(bytes.data(), in6.sin6_addr.s6_addr, bytes.size());
    return ClassifyV6(bytes);
  }
  return AddressClass::kReserved;
}

std::optional<AddressClass> ClassifyIpLiteral(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string text(host.substr(0, host.find('%')));
  if (text.empty()) return std::nullopt;
  if (text.find(':') != std::string::npos) {
    in6_addr a6;
    if (inet_pton(AF_INET6, text.c_str(), &a6) != 1) return std::nullopt;
    V6 bytes;
    std::memcpy(bytes.data(), a6.s6_addr, bytes.size());
    return ClassifyV6(bytes);
  }
  in_addr a4;
  if (inet_aton(text.c_str(), &a4) == 0) return std::nullopt;
  return ClassifyV4(ntohl(a4.s_addr));
}

}  // namespace sluice
