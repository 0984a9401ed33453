#include "fetch/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <string>

#include <gtest/gtest.h>

namespace smmhub::fetch {
namespace {

// Builds a socket address from TEXT; no traffic goes to it.
sockaddr_storage addressOf(const std::string& text) {
  sockaddr_storage storage{};
  auto* in = reinterpret_cast<sockaddr_in*>(&storage);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&storage);
  if (::inet_pton(AF_INET, text.c_str(), &in->sin_addr) == 1) {
    in->sin_family = AF_INET;
  } else if (::inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
  } else {
    ADD_FAILURE() << "not an address: " << text;
  }
  return storage;
}

const sockaddr& asSockaddr(const sockaddr_storage& storage) {
  return reinterpret_cast<const sockaddr&>(storage);
}

// Returns the message of checkAddress() for TEXT with ALLOW, or "ok".
std::string check(const std::string& text, const AllowList& allow = {}) {
  sockaddr_storage storage = addressOf(text);
  Status status = checkAddress(asSockaddr(storage), allow);
  if (!status.ok()) {
    EXPECT_EQ(status.code(), StatusCode::kPermissionDenied) << text;
  }
  return status.ok() ? "ok" : status.message();
}

struct Case {
  const char* address;
  const char* message;
};

TEST(CheckAddressTest, RejectsSpecialIpv4Ranges) {
  const Case cases[] = {
      {"0.0.0.0", "0.0.0.0 is an unspecified address (0.0.0.0/8)"},
      {"0.255.1.2", "0.255.1.2 is an unspecified address (0.0.0.0/8)"},
      {"10.0.0.1", "10.0.0.1 is a private address (10.0.0.0/8)"},
      {"10.255.255.255", "10.255.255.255 is a private address (10.0.0.0/8)"},
      {"100.64.0.1", "100.64.0.1 is a carrier-grade NAT address (100.64.0.0/10)"},
      {"100.127.255.254", "100.127.255.254 is a carrier-grade NAT address (100.64.0.0/10)"},
      {"127.0.0.1", "127.0.0.1 is a loopback address (127.0.0.0/8)"},
      {"127.255.0.9", "127.255.0.9 is a loopback address (127.0.0.0/8)"},
      {"169.254.169.254",
       "169.254.169.254 is the cloud metadata service address (169.254.169.254/32)"},
      {"169.254.0.1", "169.254.0.1 is a link-local address (169.254.0.0/16)"},
      {"172.16.0.1", "172.16.0.1 is a private address (172.16.0.0/12)"},
      {"172.31.255.255", "172.31.255.255 is a private address (172.16.0.0/12)"},
      {"192.0.0.8", "192.0.0.8 is an IETF protocol assignment address (192.0.0.0/24)"},
      {"192.0.2.1", "192.0.2.1 is a documentation address (192.0.2.0/24)"},
      {"192.88.99.1", "192.88.99.1 is a 6to4 relay anycast address (192.88.99.0/24)"},
      {"192.168.1.1", "192.168.1.1 is a private address (192.168.0.0/16)"},
      {"198.18.0.1", "198.18.0.1 is a benchmarking address (198.18.0.0/15)"},
      {"198.19.255.255", "198.19.255.255 is a benchmarking address (198.18.0.0/15)"},
      {"198.51.100.7", "198.51.100.7 is a documentation address (198.51.100.0/24)"},
      {"203.0.113.9", "203.0.113.9 is a documentation address (203.0.113.0/24)"},
      {"224.0.0.1", "224.0.0.1 is a multicast address (224.0.0.0/4)"},
      {"239.255.255.250", "239.255.255.250 is a multicast address (224.0.0.0/4)"},
      {"255.255.255.255", "255.255.255.255 is the broadcast address (255.255.255.255/32)"},
      {"240.0.0.1", "240.0.0.1 is a reserved address (240.0.0.0/4)"},
  };
  for (const Case& item : cases) {
    EXPECT_EQ(check(item.address), item.message) << item.address;
  }
}

TEST(CheckAddressTest, AcceptsPublicIpv4NextToRanges) {
  // The neighbours of each range's edges are public.
  for (const char* address :
       {"1.1.1.1", "9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0", "126.255.255.255",
        "128.0.0.0", "169.253.255.255", "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.0.1.0",
        "192.0.3.0", "192.167.255.255", "192.169.0.0", "198.17.255.255", "198.20.0.0",
        "203.0.112.255", "223.255.255.255"}) {
    EXPECT_EQ(check(address), "ok") << address;
  }
}

TEST(CheckAddressTest, RejectsSpecialIpv6Ranges) {
  const Case cases[] = {
      {"::", ":: is the unspecified address (::/128)"},
      {"::1", "::1 is the loopback address (::1/128)"},
      {"fc00::1", "fc00::1 is a unique local (private) address (fc00::/7)"},
      {"fd12:3456::1", "fd12:3456::1 is a unique local (private) address (fc00::/7)"},
      {"fe80::1", "fe80::1 is a link-local address (fe80::/10)"},
      {"febf::1", "febf::1 is a link-local address (fe80::/10)"},
      {"fec0::1", "fec0::1 is a site-local address (fec0::/10)"},
      {"ff02::1", "ff02::1 is a multicast address (ff00::/8)"},
      {"ff0e::101", "ff0e::101 is a multicast address (ff00::/8)"},
      {"2001:db8::1", "2001:db8::1 is a documentation address (2001:db8::/32)"},
      {"3fff::1", "3fff::1 is a documentation address (3fff::/20)"},
      {"2001::1", "2001::1 is a Teredo address (2001::/32)"},
      {"2001:2::1", "2001:2::1 is a benchmarking address (2001:2::/48)"},
      {"2001:10::1", "2001:10::1 is an ORCHID address (2001:10::/28)"},
      {"100::1", "100::1 is a discard-only address (100::/64)"},
      {"64:ff9b:1::1", "64:ff9b:1::1 is a local-use NAT64 address (64:ff9b:1::/48)"},
      {"4000::1", "4000::1 is a reserved address (outside the global unicast range 2000::/3)"},
      {"1::1", "1::1 is a reserved address (outside the global unicast range 2000::/3)"},
  };
  for (const Case& item : cases) {
    EXPECT_EQ(check(item.address), item.message) << item.address;
  }
}

TEST(CheckAddressTest, RejectsIpv6FormsOfRejectedIpv4) {
  const Case cases[] = {
      {"::ffff:127.0.0.1",
       "::ffff:127.0.0.1 is the IPv4-mapped form of 127.0.0.1, a loopback address (127.0.0.0/8)"},
      {"::ffff:10.1.2.3",
       "::ffff:10.1.2.3 is the IPv4-mapped form of 10.1.2.3, a private address (10.0.0.0/8)"},
      {"::ffff:169.254.169.254",
       "::ffff:169.254.169.254 is the IPv4-mapped form of 169.254.169.254, the cloud metadata "
       "service address (169.254.169.254/32)"},
      {"::ffff:0.0.0.0",
       "::ffff:0.0.0.0 is the IPv4-mapped form of 0.0.0.0, an unspecified address (0.0.0.0/8)"},
      {"::ffff:255.255.255.255",
       "::ffff:255.255.255.255 is the IPv4-mapped form of 255.255.255.255, the broadcast address "
       "(255.255.255.255/32)"},
      {"::127.0.0.1",
       "::127.0.0.1 is the IPv4-compatible form of 127.0.0.1, a loopback address (127.0.0.0/8)"},
      {"::192.168.0.1",
       "::192.168.0.1 is the IPv4-compatible form of 192.168.0.1, a private address "
       "(192.168.0.0/16)"},
      {"::8.8.8.8", "::8.8.8.8 is a deprecated IPv4-compatible address (::/96)"},
      {"64:ff9b::7f00:1",
       "64:ff9b::7f00:1 is the NAT64 form of 127.0.0.1, a loopback address (127.0.0.0/8)"},
      {"64:ff9b::a9fe:a9fe",
       "64:ff9b::a9fe:a9fe is the NAT64 form of 169.254.169.254, the cloud metadata service "
       "address (169.254.169.254/32)"},
      {"2002:7f00:1::1",
       "2002:7f00:1::1 is the 6to4 form of 127.0.0.1, a loopback address (127.0.0.0/8)"},
      {"2002:c0a8:101::",
       "2002:c0a8:101:: is the 6to4 form of 192.168.1.1, a private address (192.168.0.0/16)"},
  };
  for (const Case& item : cases) {
    EXPECT_EQ(check(item.address), item.message) << item.address;
  }
}

TEST(CheckAddressTest, AcceptsPublicIpv6AndPublicEmbeddings) {
  for (const char* address : {"2606:4700:4700::1111", "2a00:1450:4001::200e", "2001:4860::8888",
                              "::ffff:1.1.1.1", "64:ff9b::101:101", "2002:101:101::1"}) {
    EXPECT_EQ(check(address), "ok") << address;
  }
}

TEST(CheckAddressTest, RejectsUnknownFamily) {
  sockaddr address{};
  address.sa_family = AF_UNIX;

  Status status = checkAddress(address, {});

  EXPECT_EQ(status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "address family 1 is not IPv4 or IPv6");
}

TEST(CheckAddressTest, AllowListAdmitsListedRangesOnly) {
  AllowList allow;
  ASSERT_TRUE(allow.add("127.0.0.1/32").ok());
  ASSERT_TRUE(allow.add("10.20.0.0/16").ok());
  ASSERT_TRUE(allow.add("fd00:1::/32").ok());

  EXPECT_EQ(check("127.0.0.1", allow), "ok");
  EXPECT_EQ(check("::ffff:127.0.0.1", allow), "ok");
  EXPECT_EQ(check("10.20.255.1", allow), "ok");
  EXPECT_EQ(check("fd00:1:ffff::2", allow), "ok");
  EXPECT_EQ(check("127.0.0.2", allow), "127.0.0.2 is a loopback address (127.0.0.0/8)");
  EXPECT_EQ(check("10.21.0.1", allow), "10.21.0.1 is a private address (10.0.0.0/8)");
  EXPECT_EQ(check("::1", allow), "::1 is the loopback address (::1/128)");
  // The NAT64 form reaches a translator, not the listed address.
  EXPECT_EQ(check("64:ff9b::7f00:1", allow),
            "64:ff9b::7f00:1 is the NAT64 form of 127.0.0.1, a loopback address (127.0.0.0/8)");
}

TEST(CheckAddressTest, ParseCidrNamesWhatIsWrong) {
  const Case cases[] = {
      {"localhost",
       "'localhost' is not a CIDR range: 'localhost' is not an IPv4 or IPv6 address; write "
       "ADDRESS/LENGTH, as in 10.0.0.0/8 or fd00::/8"},
      {"10.0.0.0/33",
       "'10.0.0.0/33' is not a CIDR range: the prefix length must be 0 to 32; write "
       "ADDRESS/LENGTH, as in 10.0.0.0/8 or fd00::/8"},
      {"::1/",
       "'::1/' is not a CIDR range: the prefix length must be 0 to 128; write ADDRESS/LENGTH, as "
       "in 10.0.0.0/8 or fd00::/8"},
      {"10.1.0.0/8",
       "'10.1.0.0/8' is not a CIDR range: bits past the prefix are set; the network is "
       "10.0.0.0/8; write ADDRESS/LENGTH, as in 10.0.0.0/8 or fd00::/8"},
  };
  for (const Case& item : cases) {
    Result<Cidr> cidr = parseCidr(item.address);
    ASSERT_FALSE(cidr.ok()) << item.address;
    EXPECT_EQ(cidr.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(cidr.status().message(), item.message);
  }
}

TEST(CheckAddressTest, ParseCidrReadsBareAddressAsHost) {
  Result<Cidr> ipv4 = parseCidr("127.0.0.1");
  Result<Cidr> ipv6 = parseCidr("::1");
  Result<Cidr> wide = parseCidr("fd00::/8");

  ASSERT_TRUE(ipv4.ok());
  ASSERT_TRUE(ipv6.ok());
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(ipv4->toString(), "127.0.0.1/32");
  EXPECT_EQ(ipv6->toString(), "::1/128");
  EXPECT_EQ(wide->toString(), "fd00::/8");
}

TEST(CheckAddressTest, HostPrefixNamesNarrowestAllowEntry) {
  EXPECT_EQ(hostPrefix(asSockaddr(addressOf("127.0.0.1"))), "127.0.0.1/32");
  EXPECT_EQ(hostPrefix(asSockaddr(addressOf("::1"))), "::1/128");
  EXPECT_EQ(hostPrefix(asSockaddr(addressOf("::ffff:10.0.0.5"))), "10.0.0.5/32");
}

}  // namespace
}  // namespace smmhub::fetch
