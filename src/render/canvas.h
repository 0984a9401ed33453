// Drawing on Rasters with cairo: shapes, layer compositing and blends.
//
// Rasters are cairo ARGB32 (premultiplied), so each function wraps the
// Raster's pixels in a cairo image surface without copying.
#pragma once

#include <string_view>

#include "common/status.h"
#include "render/animation.h"
#include "render/raster.h"
#include "template/template.h"

namespace smmhub::render {

// Parses "#RRGGBBAA", "#RRGGBB" or "#RGB".
Result<Color> parseColor(std::string_view text);

// Fills every pixel of RASTER with COLOR.
void fillRaster(Raster& raster, Color color);

// Draws a shape layer into a new WIDTH x HEIGHT raster.
Result<Raster> drawShape(const templates::ShapeProps& shape, int width, int height);

// Draws SOURCE (a layer raster of the layer box's size) onto TARGET at the
// layer's animated STATE. The box's anchor point lands on (state.x, state.y);
// scale and rotation turn about it. Unscaled, unrotated layers are placed on
// whole pixels so that text stays crisp while it slides.
void compositeLayer(Raster& target, const Raster& source, const templates::Geometry& geometry,
                    const LayerState& state);

// Returns RASTER scaled to WIDTH x HEIGHT with cairo's good-quality filter.
Raster scaleRaster(const Raster& raster, int width, int height);

// Blends OVER onto TARGET with opacity ALPHA in [0, 1] (a crossfade step).
// REQUIRES: both rasters have the same size.
void blendOver(Raster& target, const Raster& over, double alpha);

}  // namespace smmhub::render
