#include "template/template.h"

#include <cmath>

namespace smmhub::templates {

double Template::durationS() const {
  double total_s = 0;
  for (const Scene& scene : scenes) {
    total_s += scene.duration_s;
  }
  return total_s;
}

int Template::frameCount() const {
  // Rounded, so that 2.0 s at 30 fps is 60 frames despite floating-point error.
  return static_cast<int>(std::lround(durationS() * canvas.fps));
}

std::string Layer::place() const {
  return source_column.empty() ? pointer : pointer + " (" + source_column + ")";
}

const Field* Template::findField(const std::string& name) const {
  for (const Field& field : fields) {
    if (field.name == name) {
      return &field;
    }
  }
  return nullptr;
}

}  // namespace smmhub::templates
