// Address checks for outgoing fetches: which IP addresses a fetch may
// connect to.
//
// A URL from a data feed must not reach the worker's own network: loopback,
// private and link-local ranges (the cloud metadata service at
// 169.254.169.254), and the IPv6 forms that embed those IPv4 addresses.
// checkAddress() runs on the address a connection is about to use, after
// DNS resolution, so that a host name, a numeric host in any notation and a
// redirect all meet the same check.
//
//   AllowList allow;
//   SMMHUB_RETURN_IF_ERROR(allow.add("10.20.0.0/16"));  // a private CDN
//   Status allowed = checkAddress(address, allow);
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace smmhub::fetch {

// An IPv4 or IPv6 prefix, such as 10.0.0.0/8 or fd00::/8.
struct Cidr {
  int family = AF_INET;                  // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> bytes{};  // network byte order; IPv4 uses the first 4
  int prefix_length = 0;

  // Returns whether the address of FAMILY with BYTES lies in the prefix.
  bool contains(int address_family, const std::uint8_t* address_bytes) const;
  // "10.0.0.0/8", "fd00::/8".
  std::string toString() const;
};

// Parses "ADDRESS/LENGTH", or a bare address as a /32 or /128 prefix. Host
// bits past the prefix must be zero. Errors: invalidArgument naming TEXT.
Result<Cidr> parseCidr(std::string_view text);

// Address ranges that a deployment allows on top of the public ones: the
// loopback address for tests, a private network for a private CDN.
class AllowList {
 public:
  // Adds a range written as parseCidr() reads it. Errors: invalidArgument.
  Status add(std::string_view cidr);

  // Returns whether ADDRESS lies in a listed range. An IPv4-mapped IPv6
  // address (::ffff:a.b.c.d) also matches the IPv4 ranges, because a
  // connection to it reaches a.b.c.d.
  bool contains(const sockaddr& address) const;

  bool empty() const { return ranges_.empty(); }
  const std::vector<Cidr>& ranges() const { return ranges_; }

 private:
  std::vector<Cidr> ranges_;
};

// Returns ok when a fetch may connect to ADDRESS: an address in ALLOW, or a
// public unicast address. Otherwise permissionDenied whose message names the
// address and its kind, as in "127.0.0.1 is a loopback address
// (127.0.0.0/8)". Rejected without an allow entry: unspecified, loopback,
// private (RFC 1918, CGNAT 100.64.0.0/10, IPv6 unique local fc00::/7),
// link-local, multicast, broadcast, documentation, benchmarking and other
// reserved ranges, every IPv6 address outside 2000::/3 except the forms
// below, and the IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96),
// NAT64 (64:ff9b::/96) and 6to4 (2002::/16) forms of a rejected IPv4
// address. A family other than AF_INET and AF_INET6 is rejected too.
// Sends no traffic.
Status checkAddress(const sockaddr& address, const AllowList& allow);

// Returns ADDRESS as text ("127.0.0.1", "::ffff:127.0.0.1"), or "family N"
// for a family other than AF_INET and AF_INET6.
std::string addressText(const sockaddr& address);

// Returns the narrowest prefix an allow entry needs for ADDRESS alone:
// "127.0.0.1/32" or "::1/128".
std::string hostPrefix(const sockaddr& address);

}  // namespace smmhub::fetch
