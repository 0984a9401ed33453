#include "fetch/address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <charconv>
#include <cstring>
#include <optional>

namespace smmhub::fetch {
namespace {

// An address reduced to its family and bytes in network order.
struct RawAddress {
  int family = AF_UNSPEC;
  std::array<std::uint8_t, 16> bytes{};
};

RawAddress rawAddress(const sockaddr& address) {
  RawAddress raw;
  raw.family = address.sa_family;
  if (address.sa_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(address);
    std::memcpy(raw.bytes.data(), &in.sin_addr, 4);
  } else if (address.sa_family == AF_INET6) {
    const auto& in6 = reinterpret_cast<const sockaddr_in6&>(address);
    std::memcpy(raw.bytes.data(), &in6.sin6_addr, 16);
  }
  return raw;
}

std::string bytesText(int family, const std::uint8_t* bytes) {
  char text[INET6_ADDRSTRLEN] = {};
  if (::inet_ntop(family, bytes, text, sizeof text) == nullptr) {
    return "family " + std::to_string(family);
  }
  return text;
}

// A special-purpose range and the phrase that names it in errors.
struct SpecialRange {
  Cidr cidr;
  std::string phrase;  // "a loopback address"
};

std::vector<SpecialRange> parseRanges(
    std::initializer_list<std::pair<const char*, const char*>> list) {
  std::vector<SpecialRange> ranges;
  for (const auto& [text, phrase] : list) {
    Result<Cidr> cidr = parseCidr(text);
    ranges.push_back({cidr.ok() ? *cidr : Cidr{}, phrase});
  }
  return ranges;
}

// IPv4 special-purpose ranges (IANA's registry, RFC 6890 and its updates),
// the narrower first.
const std::vector<SpecialRange>& ipv4Ranges() {
  static const std::vector<SpecialRange> ranges = parseRanges({
      {"0.0.0.0/8", "an unspecified address"},
      {"10.0.0.0/8", "a private address"},
      {"100.64.0.0/10", "a carrier-grade NAT address"},
      {"127.0.0.0/8", "a loopback address"},
      {"169.254.169.254/32", "the cloud metadata service address"},
      {"169.254.0.0/16", "a link-local address"},
      {"172.16.0.0/12", "a private address"},
      {"192.0.0.0/24", "an IETF protocol assignment address"},
      {"192.0.2.0/24", "a documentation address"},
      {"192.88.99.0/24", "a 6to4 relay anycast address"},
      {"192.168.0.0/16", "a private address"},
      {"198.18.0.0/15", "a benchmarking address"},
      {"198.51.100.0/24", "a documentation address"},
      {"203.0.113.0/24", "a documentation address"},
      {"224.0.0.0/4", "a multicast address"},
      {"255.255.255.255/32", "the broadcast address"},
      {"240.0.0.0/4", "a reserved address"},
  });
  return ranges;
}

// IPv6 special-purpose ranges that embed no IPv4 address.
const std::vector<SpecialRange>& ipv6Ranges() {
  static const std::vector<SpecialRange> ranges = parseRanges({
      {"::/128", "the unspecified address"},
      {"::1/128", "the loopback address"},
      {"64:ff9b:1::/48", "a local-use NAT64 address"},
      {"100::/64", "a discard-only address"},
      {"2001::/32", "a Teredo address"},
      {"2001:2::/48", "a benchmarking address"},
      {"2001:10::/28", "an ORCHID address"},
      {"2001:db8::/32", "a documentation address"},
      {"3fff::/20", "a documentation address"},
      {"fc00::/7", "a unique local (private) address"},
      {"fe80::/10", "a link-local address"},
      {"fec0::/10", "a site-local address"},
      {"ff00::/8", "a multicast address"},
  });
  return ranges;
}

// An IPv6 range whose addresses carry an IPv4 address at OFFSET.
struct EmbeddingRange {
  Cidr cidr;
  const char* form;
  size_t offset;
};

const std::vector<EmbeddingRange>& embeddingRanges() {
  struct Spec {
    const char* cidr;
    const char* form;
    size_t offset;
  };
  static const std::vector<EmbeddingRange> ranges = [] {
    const Spec specs[] = {
        {"::ffff:0:0/96", "IPv4-mapped", 12},
        {"::/96", "IPv4-compatible", 12},
        {"64:ff9b::/96", "NAT64", 12},
        {"2002::/16", "6to4", 2},
    };
    std::vector<EmbeddingRange> list;
    for (const Spec& spec : specs) {
      Result<Cidr> cidr = parseCidr(spec.cidr);
      list.push_back(EmbeddingRange{cidr.ok() ? *cidr : Cidr{}, spec.form, spec.offset});
    }
    return list;
  }();
  return ranges;
}

std::optional<std::string> rangeProblem(const std::vector<SpecialRange>& ranges, int family,
                                        const std::uint8_t* bytes) {
  for (const SpecialRange& range : ranges) {
    if (range.cidr.contains(family, bytes)) {
      return range.phrase + " (" + range.cidr.toString() + ")";
    }
  }
  return std::nullopt;
}

// Returns why a fetch may not connect to the IPv4 address BYTES, or nothing.
std::optional<std::string> ipv4Problem(const std::uint8_t* bytes) {
  return rangeProblem(ipv4Ranges(), AF_INET, bytes);
}

// Returns why a fetch may not connect to the IPv6 address BYTES, or nothing.
std::optional<std::string> ipv6Problem(const std::uint8_t* bytes) {
  // :: and ::1 lie inside ::/96, so they are matched before the embeddings.
  for (size_t i = 0; i < 2; ++i) {
    const SpecialRange& range = ipv6Ranges()[i];
    if (range.cidr.contains(AF_INET6, bytes)) {
      return range.phrase + " (" + range.cidr.toString() + ")";
    }
  }
  for (const EmbeddingRange& range : embeddingRanges()) {
    if (!range.cidr.contains(AF_INET6, bytes)) {
      continue;
    }
    const std::uint8_t* ipv4 = bytes + range.offset;
    if (std::optional<std::string> problem = ipv4Problem(ipv4)) {
      return "the " + std::string(range.form) + " form of " + bytesText(AF_INET, ipv4) + ", " +
             *problem;
    }
    // The IPv4-compatible form is deprecated (RFC 4291) and no public host
    // uses it.
    if (std::string_view(range.form) == "IPv4-compatible") {
      return "a deprecated IPv4-compatible address (::/96)";
    }
    return std::nullopt;
  }
  if (std::optional<std::string> problem = rangeProblem(ipv6Ranges(), AF_INET6, bytes)) {
    return problem;
  }
  // IANA allocates global unicast addresses from 2000::/3 only.
  if ((bytes[0] & 0xe0) != 0x20) {
    return std::string("a reserved address (outside the global unicast range 2000::/3)");
  }
  return std::nullopt;
}

}  // namespace

bool Cidr::contains(int address_family, const std::uint8_t* address_bytes) const {
  if (address_family != family) {
    return false;
  }
  int full = prefix_length / 8;
  if (std::memcmp(bytes.data(), address_bytes, static_cast<size_t>(full)) != 0) {
    return false;
  }
  int rest = prefix_length % 8;
  if (rest == 0) {
    return true;
  }
  auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (bytes[static_cast<size_t>(full)] & mask) == (address_bytes[full] & mask);
}

std::string Cidr::toString() const {
  return bytesText(family, bytes.data()) + "/" + std::to_string(prefix_length);
}

Result<Cidr> parseCidr(std::string_view text) {
  auto invalid = [&](std::string_view why) {
    return Status::invalidArgument("'" + std::string(text) +
                                   "' is not a CIDR range: " + std::string(why) +
                                   "; write ADDRESS/LENGTH, as in " + "10.0.0.0/8 or fd00::/8");
  };
  size_t slash = text.find('/');
  std::string address(text.substr(0, slash));
  Cidr cidr;
  if (::inet_pton(AF_INET, address.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET;
  } else if (::inet_pton(AF_INET6, address.c_str(), cidr.bytes.data()) == 1) {
    cidr.family = AF_INET6;
  } else {
    return invalid("'" + address + "' is not an IPv4 or IPv6 address");
  }
  int max_length = cidr.family == AF_INET ? 32 : 128;
  cidr.prefix_length = max_length;
  if (slash != std::string_view::npos) {
    std::string_view length = text.substr(slash + 1);
    auto [end, error] =
        std::from_chars(length.data(), length.data() + length.size(), cidr.prefix_length);
    if (length.empty() || error != std::errc() || end != length.data() + length.size() ||
        cidr.prefix_length < 0 || cidr.prefix_length > max_length) {
      return invalid("the prefix length must be 0 to " + std::to_string(max_length));
    }
  }

  // Host bits set past the prefix usually mean a typo in the length.
  Cidr network = cidr;
  for (int bit = cidr.prefix_length; bit < max_length; ++bit) {
    network.bytes[static_cast<size_t>(bit / 8)] &= static_cast<std::uint8_t>(~(0x80 >> (bit % 8)));
  }
  if (network.bytes != cidr.bytes) {
    return invalid("bits past the prefix are set; the network is " + network.toString());
  }
  return cidr;
}

Status AllowList::add(std::string_view cidr) {
  SMMHUB_ASSIGN_OR_RETURN(Cidr parsed, parseCidr(cidr));
  ranges_.push_back(parsed);
  return okStatus();
}

bool AllowList::contains(const sockaddr& address) const {
  RawAddress raw = rawAddress(address);
  const EmbeddingRange& mapped = embeddingRanges()[0];
  bool is_mapped = raw.family == AF_INET6 && mapped.cidr.contains(AF_INET6, raw.bytes.data());
  for (const Cidr& range : ranges_) {
    if (range.contains(raw.family, raw.bytes.data()) ||
        (is_mapped && range.contains(AF_INET, raw.bytes.data() + mapped.offset))) {
      return true;
    }
  }
  return false;
}

Status checkAddress(const sockaddr& address, const AllowList& allow) {
  if (address.sa_family != AF_INET && address.sa_family != AF_INET6) {
    return {StatusCode::kPermissionDenied,
            "address family " + std::to_string(address.sa_family) + " is not IPv4 or IPv6"};
  }
  if (allow.contains(address)) {
    return okStatus();
  }
  RawAddress raw = rawAddress(address);
  std::optional<std::string> problem =
      raw.family == AF_INET ? ipv4Problem(raw.bytes.data()) : ipv6Problem(raw.bytes.data());
  if (!problem) {
    return okStatus();
  }
  return {StatusCode::kPermissionDenied, addressText(address) + " is " + *problem};
}

std::string addressText(const sockaddr& address) {
  RawAddress raw = rawAddress(address);
  return bytesText(raw.family, raw.bytes.data());
}

std::string hostPrefix(const sockaddr& address) {
  RawAddress raw = rawAddress(address);
  const EmbeddingRange& mapped = embeddingRanges()[0];
  if (raw.family == AF_INET6 && mapped.cidr.contains(AF_INET6, raw.bytes.data())) {
    return bytesText(AF_INET, raw.bytes.data() + mapped.offset) + "/32";
  }
  return addressText(address) + (raw.family == AF_INET ? "/32" : "/128");
}

}  // namespace smmhub::fetch
