// Peak signal-to-noise ratio between two Rasters, for golden-image tests.
#pragma once

#include "render/raster.h"

namespace smmhub::render {

// Returns the PSNR in dB over all four premultiplied channels: +infinity for
// identical pixels and 0 when the sizes differ. Above about 30 dB two pictures
// look alike.
double psnr(const Raster& a, const Raster& b);

}  // namespace smmhub::render
