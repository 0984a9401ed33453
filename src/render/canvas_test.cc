#include "render/canvas.h"

#include <gtest/gtest.h>

namespace smmhub::render {
namespace {

Color pixelAt(const Raster& raster, int x, int y) {
  const std::uint8_t* p = raster.row(y) + static_cast<size_t>(x) * 4;
  return Color{p[2], p[1], p[0], p[3]};
}

TEST(CanvasTest, ParsesColourForms) {
  EXPECT_EQ(*parseColor("#0B1D51"), (Color{11, 29, 81, 255}));
  EXPECT_EQ(*parseColor("#0B1D5180"), (Color{11, 29, 81, 128}));
  EXPECT_EQ(*parseColor("#fff"), (Color{255, 255, 255, 255}));
}

TEST(CanvasTest, InvalidColourNamesValue) {
  Result<Color> color = parseColor("#12345G");

  ASSERT_FALSE(color.ok());
  EXPECT_EQ(color.status().message(), "invalid colour '#12345G'; expected #RRGGBB or #RRGGBBAA");
}

TEST(CanvasTest, FillPremultipliesAlpha) {
  Raster raster(2, 2);

  fillRaster(raster, Color{200, 100, 50, 128});

  // B, G, R premultiplied by 128/255, then A.
  EXPECT_EQ(raster.pixels[0], 25);
  EXPECT_EQ(raster.pixels[1], 50);
  EXPECT_EQ(raster.pixels[2], 100);
  EXPECT_EQ(raster.pixels[3], 128);
}

TEST(CanvasTest, VerticalGradientRunsTopToBottom) {
  templates::ShapeProps shape;
  shape.fill.type = templates::FillType::kLinear;
  shape.fill.angle_deg = 180;
  shape.fill.stops = {{0, "#FF0000FF"}, {1, "#0000FFFF"}};

  Result<Raster> raster = drawShape(shape, 10, 100);

  ASSERT_TRUE(raster.ok()) << raster.status().toString();
  Color top = pixelAt(*raster, 5, 0);
  Color bottom = pixelAt(*raster, 5, 99);
  EXPECT_GT(top.r, 245);
  EXPECT_LT(top.b, 10);
  EXPECT_LT(bottom.r, 10);
  EXPECT_GT(bottom.b, 245);
}

TEST(CanvasTest, EllipseLeavesCornersTransparent) {
  templates::ShapeProps shape;
  shape.shape = templates::ShapeType::kEllipse;
  shape.fill.color = "#00FF00FF";

  Result<Raster> raster = drawShape(shape, 40, 20);

  ASSERT_TRUE(raster.ok());
  EXPECT_EQ(pixelAt(*raster, 0, 0).a, 0);
  EXPECT_EQ(pixelAt(*raster, 20, 10), (Color{0, 255, 0, 255}));
}

TEST(CanvasTest, CompositePlacesAnchorOnPosition) {
  Raster target(20, 20);
  Raster dot(4, 4);
  fillRaster(dot, Color{255, 255, 255, 255});
  templates::Geometry geometry;
  geometry.anchor = templates::Anchor::kCenter;
  LayerState state;
  state.x = 10;
  state.y = 10;

  compositeLayer(target, dot, geometry, state);

  EXPECT_EQ(pixelAt(target, 8, 8).a, 255);
  EXPECT_EQ(pixelAt(target, 11, 11).a, 255);
  EXPECT_EQ(pixelAt(target, 7, 7).a, 0);
  EXPECT_EQ(pixelAt(target, 12, 12).a, 0);
}

TEST(CanvasTest, BlendOverMixesByAlpha) {
  Raster target(1, 1);
  fillRaster(target, Color{0, 0, 0, 255});
  Raster over(1, 1);
  fillRaster(over, Color{255, 255, 255, 255});

  blendOver(target, over, 0.5);

  EXPECT_NEAR(pixelAt(target, 0, 0).r, 128, 1);
}

}  // namespace
}  // namespace smmhub::render
