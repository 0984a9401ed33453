#include "render/image/psnr.h"

#include <cmath>
#include <limits>

namespace smmhub::render {

double psnr(const Raster& a, const Raster& b) {
  if (a.width != b.width || a.height != b.height || a.pixels.empty()) {
    return 0;
  }

  double squared_error = 0;
  for (std::size_t i = 0; i < a.pixels.size(); ++i) {
    double difference = static_cast<double>(a.pixels[i]) - b.pixels[i];
    squared_error += difference * difference;
  }
  if (squared_error == 0) {
    return std::numeric_limits<double>::infinity();
  }
  double mean_squared_error = squared_error / static_cast<double>(a.pixels.size());
  return 10 * std::log10(255.0 * 255.0 / mean_squared_error);
}

}  // namespace smmhub::render
