// Keyframe sampling: the state of a layer's box at a time in its scene.
#pragma once

#include "template/template.h"

namespace smmhub::render {

// Applies EASING to progress P in [0, 1]. Back and elastic easings overshoot,
// so the result may leave [0, 1].
double applyEasing(templates::Easing easing, double p);

// Returns the value of TRACK at TIME_S (seconds from the scene start).
// REQUIRES: track.keyframes is not empty and sorted by time.
double sampleTrack(const templates::Track& track, double time_s);

// The animated state of a layer box at one time.
struct LayerState {
  bool visible = true;
  double x = 0;
  double y = 0;
  double scale = 1;
  double rotation_deg = 0;
  double opacity = 1;

  bool operator==(const LayerState&) const = default;
};

// Returns the layer's state at TIME_S in its scene of length SCENE_DURATION_S.
LayerState sampleLayer(const templates::Layer& layer, double time_s, double scene_duration_s);

// Returns the (x, y) offset of the anchor point inside a WIDTH x HEIGHT box
// from its top-left corner.
void anchorOffset(templates::Anchor anchor, double width, double height, double* dx, double* dy);

}  // namespace smmhub::render
