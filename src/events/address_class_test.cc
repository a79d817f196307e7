#include "events/address_class.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace sluice {
namespace {

struct Case {
  const char* host;
  AddressClass want;
};

// Every class the guard must refuse, the IPv6 forms that smuggle an IPv4 address, and public
// neighbours just outside each private range.
const Case kCases[] = {
    {"8.8.8.8", AddressClass::kPublic},
    {"1.1.1.1", AddressClass::kPublic},
    {"0.0.0.0", AddressClass::kUnspecified},
    {"0.1.2.3", AddressClass::kUnspecified},
    {"127.0.0.1", AddressClass::kLoopback},
    {"127.255.255.254", AddressClass::kLoopback},
    {"10.0.0.1", AddressClass::kPrivate},
    {"10.255.255.255", AddressClass::kPrivate},
    {"11.0.0.1", AddressClass::kPublic},
    {"172.16.0.1", AddressClass::kPrivate},
    {"172.31.255.255", AddressClass::kPrivate},
    {"172.15.255.255", AddressClass::kPublic},
    {"172.32.0.0", AddressClass::kPublic},
    {"192.168.1.1", AddressClass::kPrivate},
    {"192.169.0.1", AddressClass::kPublic},
    {"100.64.0.1", AddressClass::kSharedCgnat},
    {"100.127.255.255", AddressClass::kSharedCgnat},
    {"100.63.255.255", AddressClass::kPublic},
    {"100.128.0.0", AddressClass::kPublic},
    {"169.254.169.254", AddressClass::kLinkLocal},  // cloud metadata
    {"169.254.0.1", AddressClass::kLinkLocal},
    {"224.0.0.1", AddressClass::kMulticast},
    {"255.255.255.255", AddressClass::kReserved},
    {"198.18.0.1", AddressClass::kReserved},
    // IPv4 spellings the resolver accepts
    {"127.1", AddressClass::kLoopback},
    {"2130706433", AddressClass::kLoopback},
    {"0x7f.0.0.1", AddressClass::kLoopback},
    {"017700000001", AddressClass::kLoopback},
    // IPv6
    {"::", AddressClass::kUnspecified},
    {"::1", AddressClass::kLoopback},
    {"[::1]", AddressClass::kLoopback},
    {"fe80::1", AddressClass::kLinkLocal},
    {"fe80::1%eth0", AddressClass::kLinkLocal},
    {"febf::1", AddressClass::kLinkLocal},
    {"fc00::1", AddressClass::kUniqueLocal},
    {"fd12:3456::1", AddressClass::kUniqueLocal},
    {"ff02::1", AddressClass::kMulticast},
    {"2001:4860:4860::8888", AddressClass::kPublic},
    {"2001:db8::1", AddressClass::kReserved},
    // IPv4 inside IPv6
    {"::ffff:127.0.0.1", AddressClass::kLoopback},
    {"::ffff:7f00:1", AddressClass::kLoopback},
    {"::ffff:169.254.169.254", AddressClass::kLinkLocal},
    {"::ffff:10.1.2.3", AddressClass::kPrivate},
    {"::ffff:8.8.8.8", AddressClass::kPublic},
    {"::127.0.0.1", AddressClass::kLoopback},
    {"64:ff9b::a9fe:a9fe", AddressClass::kLinkLocal},
    {"64:ff9b::808:808", AddressClass::kPublic},
    {"2002:7f00:1::", AddressClass::kLoopback},
    {"2002:0a00:1::", AddressClass::kPrivate},
};

TEST(AddressClassTest, ClassifiesLiterals) {
  for (const Case& c : kCases) {
    auto got = ClassifyIpLiteral(c.host);
    ASSERT_TRUE(got.has_value()) << c.host;
    EXPECT_EQ(*got, c.want) << c.host << ": got " << AddressClassName(*got) << ", want "
                            << AddressClassName(c.want);
  }
}

TEST(AddressClassTest, NamesAreNotLiterals) {
  for (const char* host : {"example.com", "localhost", "", "hooks.internal", "1.2.3.4.example"}) {
    EXPECT_FALSE(ClassifyIpLiteral(host).has_value()) << host;
  }
}

// The connect-time path sees socket addresses, as libcurl hands them over.
TEST(AddressClassTest, ClassifiesSocketAddresses) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  ASSERT_EQ(inet_pton(AF_INET, "169.254.169.254", &v4.sin_addr), 1);
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(v4)), AddressClass::kLinkLocal);
  ASSERT_EQ(inet_pton(AF_INET, "93.184.216.34", &v4.sin_addr), 1);
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(v4)), AddressClass::kPublic);

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:192.168.0.1", &v6.sin6_addr), 1);
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(v6)), AddressClass::kPrivate);
  ASSERT_EQ(inet_pton(AF_INET6, "::1", &v6.sin6_addr), 1);
  EXPECT_EQ(ClassifyAddress(reinterpret_cast<const sockaddr&>(v6)), AddressClass::kLoopback);
}

}  // namespace
}  // namespace sluice
