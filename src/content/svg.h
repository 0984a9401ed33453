// Safety check and size of uploaded SVG files, with libxml2.
//
// An SVG is a document that a browser may run: the admin UI shows uploaded
// logos, and the renderer (librsvg) follows references to files and URLs.
// checkSvg() therefore accepts only self-contained, script-free documents:
//   - no <script>, <handler>, <foreignObject>, <iframe>, <embed> or <object>;
//   - no event attributes (onload, onclick, ...), and no <animate> or <set>
//     that changes an event attribute or a link;
//   - every href, xlink:href and src, and every url(...) in an attribute or
//     in a <style> element, points into the document ("#id") or is an
//     inline data:image/png or data:image/jpeg base64 image; no @import;
//   - no DOCTYPE that declares entities, so that no entity expands.
// The parser never touches the network (XML_PARSE_NONET), loads no DTD and
// substitutes no entity.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/diagnostics.h"
#include "common/status.h"

namespace smmhub::content {

struct SvgSize {
  // Pixels at 96 dpi, from the root's width and height; a missing or
  // percentage width or height comes from the viewBox. 0 when neither gives one.
  std::int64_t width = 0;
  std::int64_t height = 0;
};

// Parses BYTES as SVG and checks it as above. Every problem goes to PROBLEMS
// (may be null) with "line N" as its place and a message that names the
// element or attribute. Errors: invalidArgument when the XML does not parse
// (with the line and libxml2's message), or summarising the problems.
Result<SvgSize> checkSvg(std::string_view bytes, Diagnostics* problems);

}  // namespace smmhub::content
