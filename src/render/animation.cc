#include "render/animation.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace smmhub::render {
namespace {

using templates::Easing;

// Overshoot of the back easings (the usual 10% overshoot constant).
constexpr double kBackOvershoot = 1.70158;

double backIn(double p) {
  return (kBackOvershoot + 1) * p * p * p - kBackOvershoot * p * p;
}

double elasticOut(double p) {
  if (p <= 0 || p >= 1) {
    return std::clamp(p, 0.0, 1.0);
  }
  constexpr double kPeriod = 2 * std::numbers::pi / 3;
  return std::pow(2, -10 * p) * std::sin((p * 10 - 0.75) * kPeriod) + 1;
}

// Builds in, out and in-out variants from an "in" curve.
template <typename In>
double easeOut(In in, double p) {
  return 1 - in(1 - p);
}

template <typename In>
double easeInOut(In in, double p) {
  return p < 0.5 ? in(2 * p) / 2 : 1 - in(2 - 2 * p) / 2;
}

}  // namespace

double applyEasing(Easing easing, double p) {
  p = std::clamp(p, 0.0, 1.0);
  auto quad = [](double v) {
    return v * v;
  };
  auto cubic = [](double v) {
    return v * v * v;
  };
  auto elastic_in = [](double v) {
    return 1 - elasticOut(1 - v);
  };
  switch (easing) {
    case Easing::kLinear:
      return p;
    case Easing::kStep:
      return p < 1 ? 0 : 1;
    case Easing::kQuadIn:
      return quad(p);
    case Easing::kQuadOut:
      return easeOut(quad, p);
    case Easing::kQuadInOut:
      return easeInOut(quad, p);
    case Easing::kCubicIn:
      return cubic(p);
    case Easing::kCubicOut:
      return easeOut(cubic, p);
    case Easing::kCubicInOut:
      return easeInOut(cubic, p);
    case Easing::kBackIn:
      return backIn(p);
    case Easing::kBackOut:
      return easeOut(backIn, p);
    case Easing::kBackInOut:
      return easeInOut(backIn, p);
    case Easing::kElasticIn:
      return elastic_in(p);
    case Easing::kElasticOut:
      return elasticOut(p);
    case Easing::kElasticInOut:
      return easeInOut(elastic_in, p);
  }
  return p;
}

double sampleTrack(const templates::Track& track, double time_s) {
  const auto& keys = track.keyframes;
  if (time_s <= keys.front().time_s) {
    return keys.front().value;
  }
  if (time_s >= keys.back().time_s) {
    return keys.back().value;
  }

  // The first keyframe after TIME_S ends the segment and carries its easing.
  auto next = std::upper_bound(keys.begin(), keys.end(), time_s,
                               [](double t, const templates::Keyframe& k) { return t < k.time_s; });
  auto prev = next - 1;
  double span = next->time_s - prev->time_s;
  double p = span > 0 ? (time_s - prev->time_s) / span : 1;
  return prev->value + (next->value - prev->value) * applyEasing(next->easing, p);
}

LayerState sampleLayer(const templates::Layer& layer, double time_s, double scene_duration_s) {
  const auto& g = layer.geometry;
  LayerState state{true, g.x, g.y, g.scale, g.rotation_deg, g.opacity};
  double end_s = layer.end_s < 0 ? scene_duration_s : layer.end_s;
  if (time_s < layer.start_s || time_s >= end_s) {
    state.visible = false;
    return state;
  }

  for (const auto& track : layer.tracks) {
    double value = sampleTrack(track, time_s);
    switch (track.property) {
      case templates::Property::kX:
        state.x = value;
        break;
      case templates::Property::kY:
        state.y = value;
        break;
      case templates::Property::kScale:
        state.scale = value;
        break;
      case templates::Property::kRotation:
        state.rotation_deg = value;
        break;
      case templates::Property::kOpacity:
        state.opacity = g.opacity * std::clamp(value, 0.0, 1.0);
        break;
    }
  }
  if (state.opacity <= 0 || state.scale == 0) {
    state.visible = false;
  }
  return state;
}

void anchorOffset(templates::Anchor anchor, double width, double height, double* dx, double* dy) {
  using templates::Anchor;
  double fx = 0;
  double fy = 0;
  switch (anchor) {
    case Anchor::kTopLeft:
      break;
    case Anchor::kTop:
      fx = 0.5;
      break;
    case Anchor::kTopRight:
      fx = 1;
      break;
    case Anchor::kLeft:
      fy = 0.5;
      break;
    case Anchor::kCenter:
      fx = 0.5;
      fy = 0.5;
      break;
    case Anchor::kRight:
      fx = 1;
      fy = 0.5;
      break;
    case Anchor::kBottomLeft:
      fy = 1;
      break;
    case Anchor::kBottom:
      fx = 0.5;
      fy = 1;
      break;
    case Anchor::kBottomRight:
      fx = 1;
      fy = 1;
      break;
  }
  *dx = fx * width;
  *dy = fy * height;
}

}  // namespace smmhub::render
