// Invariant checks shared by the fuzz targets. A broken invariant prints
// what broke and aborts, which libFuzzer reports as a crash and saves with
// the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/status.h"

namespace smmhub::fuzz {

[[noreturn]] inline void fail(const char* file, int line, const char* condition,
                              const std::string& detail) {
  std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n  %s\n", file, line, condition,
               detail.c_str());
  std::abort();
}

// Whether TEXT is UTF-8 as RFC 3629 defines it: no overlong forms, no
// surrogates, nothing above U+10FFFF. Written apart from the parsers' own
// checks, so that it can catch theirs.
inline bool isUtf8(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto lead = static_cast<unsigned char>(text[i]);
    size_t length = 4;
    if (lead < 0x80) {
      length = 1;
    } else if (lead < 0xC2) {
      length = 0;  // a continuation byte, or the lead of an overlong form
    } else if (lead < 0xE0) {
      length = 2;
    } else if (lead < 0xF0) {
      length = 3;
    }
    if (length == 0 || lead > 0xF4 || i + length > text.size()) {
      return false;
    }
    unsigned code_point = length == 1 ? lead : lead & (0x7F >> length);
    for (size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) {
        return false;
      }
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if ((length == 3 && code_point < 0x800) || (length == 4 && code_point < 0x10000) ||
        code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

}  // namespace smmhub::fuzz

// Aborts with DETAIL (a std::string) when CONDITION is false.
#define SMMHUB_FUZZ_CHECK(condition, detail)                          \
  do {                                                                \
    if (!(condition)) {                                               \
      ::smmhub::fuzz::fail(__FILE__, __LINE__, #condition, (detail)); \
    }                                                                 \
  } while (false)

// Checks that a failed parse gives its reason: invalidArgument with a message.
#define SMMHUB_FUZZ_CHECK_REJECTED(status)                                                      \
  SMMHUB_FUZZ_CHECK(                                                                            \
      (status).code() == ::smmhub::StatusCode::kInvalidArgument && !(status).message().empty(), \
      (status).toString())
