// Drawing and inspection of a laid-out PangoLayout. Not for use outside
// src/render/text.
#pragma once

#include <pango/pango.h>

#include <string>

#include "render/raster.h"
#include "render/text/text_renderer.h"

namespace smmhub::render::internal {

// Draws LAYOUT into RASTER inside a margin of PADDING_PX, aligned per STYLE:
// the shadow first, then the stroke, then the fill.
void drawLayout(PangoLayout* layout, const TextStyle& style, double padding_px, Raster& raster);

// Fills REPORT's line count, ellipsis, direction, unknown glyphs, fallback
// fonts and missing characters from LAYOUT, whose text is TEXT.
void describeLayout(PangoLayout* layout, const std::string& text, const std::string& family,
                    TextReport& report);

// Blurs an A8 image in place with three passes of a box blur of RADIUS
// pixels, which approximates a Gaussian blur.
void boxBlurAlpha(unsigned char* data, int width, int height, int stride, int radius);

}  // namespace smmhub::render::internal
