#include "render/animation.h"

#include <gtest/gtest.h>

namespace smmhub::render {
namespace {

using templates::Easing;

templates::Track track(templates::Property property, std::vector<templates::Keyframe> keys) {
  return templates::Track{property, std::move(keys)};
}

TEST(AnimationTest, EasingsMeetEndpoints) {
  for (Easing easing :
       {Easing::kLinear, Easing::kQuadIn, Easing::kQuadOut, Easing::kQuadInOut, Easing::kCubicIn,
        Easing::kCubicOut, Easing::kCubicInOut, Easing::kBackIn, Easing::kBackOut,
        Easing::kBackInOut, Easing::kElasticIn, Easing::kElasticOut, Easing::kElasticInOut}) {
    SCOPED_TRACE(static_cast<int>(easing));
    EXPECT_NEAR(applyEasing(easing, 0), 0, 1e-9);
    EXPECT_NEAR(applyEasing(easing, 1), 1, 1e-9);
  }
}

TEST(AnimationTest, EasingValuesAtMidpoint) {
  EXPECT_DOUBLE_EQ(applyEasing(Easing::kLinear, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(applyEasing(Easing::kQuadIn, 0.5), 0.25);
  EXPECT_DOUBLE_EQ(applyEasing(Easing::kCubicOut, 0.5), 0.875);
  EXPECT_DOUBLE_EQ(applyEasing(Easing::kCubicInOut, 0.5), 0.5);
  EXPECT_DOUBLE_EQ(applyEasing(Easing::kStep, 0.99), 0);
  EXPECT_LT(applyEasing(Easing::kBackIn, 0.2), 0);
  EXPECT_GT(applyEasing(Easing::kBackOut, 0.8), 1);
}

TEST(AnimationTest, TrackHoldsOutsideKeyframes) {
  auto x = track(templates::Property::kX, {{1.0, 10, Easing::kLinear}, {2.0, 30, Easing::kLinear}});

  EXPECT_DOUBLE_EQ(sampleTrack(x, 0.0), 10);
  EXPECT_DOUBLE_EQ(sampleTrack(x, 1.5), 20);
  EXPECT_DOUBLE_EQ(sampleTrack(x, 5.0), 30);
}

TEST(AnimationTest, SegmentUsesEasingOfItsEndKeyframe) {
  auto x =
      track(templates::Property::kX, {{0.0, -460, Easing::kLinear}, {0.4, 40, Easing::kCubicOut}});

  EXPECT_DOUBLE_EQ(sampleTrack(x, 0.2), -460 + 500 * 0.875);
}

TEST(AnimationTest, LayerHiddenOutsideItsWindow) {
  templates::Layer layer;
  layer.start_s = 1;
  layer.end_s = 2;

  EXPECT_FALSE(sampleLayer(layer, 0.5, 5).visible);
  EXPECT_TRUE(sampleLayer(layer, 1.5, 5).visible);
  EXPECT_FALSE(sampleLayer(layer, 2.0, 5).visible);
}

TEST(AnimationTest, OpacityTrackMultipliesLayerOpacity) {
  templates::Layer layer;
  layer.geometry.opacity = 0.5;
  layer.tracks.push_back(
      track(templates::Property::kOpacity, {{0, 0, Easing::kLinear}, {1, 1, Easing::kLinear}}));

  EXPECT_FALSE(sampleLayer(layer, 0, 2).visible);
  EXPECT_DOUBLE_EQ(sampleLayer(layer, 0.5, 2).opacity, 0.25);
  EXPECT_DOUBLE_EQ(sampleLayer(layer, 1.5, 2).opacity, 0.5);
}

TEST(AnimationTest, AnchorOffsets) {
  double dx = 0;
  double dy = 0;

  anchorOffset(templates::Anchor::kCenter, 100, 50, &dx, &dy);
  EXPECT_DOUBLE_EQ(dx, 50);
  EXPECT_DOUBLE_EQ(dy, 25);
  anchorOffset(templates::Anchor::kBottomRight, 100, 50, &dx, &dy);
  EXPECT_DOUBLE_EQ(dx, 100);
  EXPECT_DOUBLE_EQ(dy, 50);
}

}  // namespace
}  // namespace smmhub::render
