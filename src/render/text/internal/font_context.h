// Per-thread Pango contexts for a FontLibrary. Not for use outside
// src/render/text.
#pragma once

#include <pango/pango.h>

#include "common/status.h"
#include "render/text/text_renderer.h"

namespace smmhub::render::internal {

// Returns this thread's Pango context on FONTS' font map, creating it on first
// use and again after FONTS gained a font. The context stays valid until this
// thread ends or FONTS gains another font; the caller must not unref it.
// REQUIRES: the caller holds FONTS.mutex() shared.
Result<PangoContext*> threadContext(const FontLibrary& fonts);

}  // namespace smmhub::render::internal
