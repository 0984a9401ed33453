#include "template/parser.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "template/schema.h"

namespace smmhub::templates {
namespace {

class ParserTest : public ::testing::Test {
 protected:
  static nlohmann::json minimal() {
    return nlohmann::json::parse(R"({
      "version": 1,
      "fields": {"home": {"type": "text", "required": true}},
      "scenes": [{"duration": 2, "layers": [
        {"kind": "text", "content": "{{home}}"},
        {"kind": "shape", "fill": "#FF0000"}
      ]}]
    })");
  }

  Result<Template> parse(const nlohmann::json& json) {
    return parseTemplate(json.dump(), "template.json", &problems_);
  }

  std::vector<std::string> places() const {
    std::vector<std::string> places;
    for (const Diagnostic& problem : problems_.items()) {
      places.push_back(problem.place);
    }
    return places;
  }

  Diagnostics problems_;
};

TEST_F(ParserTest, EmbeddedSchemaParses) {
  nlohmann::json schema = nlohmann::json::parse(templateSchemaText());

  EXPECT_EQ(schema["$schema"], "http://json-schema.org/draft-07/schema#");
  EXPECT_TRUE(validateTemplateSchema(minimal()).empty());
}

TEST_F(ParserTest, CompleteExampleParses) {
  Result<Template> parsed = loadTemplate("tests/testdata/templates/matchday.json", &problems_);

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(problems_.items().size(), 0u);
  const Template& tmpl = *parsed;
  EXPECT_EQ(tmpl.name, "Match Day");
  EXPECT_EQ(tmpl.canvas.background, "#000000FF");
  EXPECT_EQ(tmpl.fields.size(), 4u);
  ASSERT_NE(tmpl.findField("venue"), nullptr);
  EXPECT_EQ(tmpl.findField("venue")->default_value, std::optional<std::string>(""));
  EXPECT_EQ(tmpl.findField("kickoff")->type, FieldType::kTime);
  ASSERT_EQ(tmpl.audio.size(), 1u);
  EXPECT_EQ(std::get<AudioProps>(tmpl.audio[0].props).fade_out_s, 0.5);
  EXPECT_EQ(std::get<AudioProps>(tmpl.audio[0].props).volume, 0.8);
  ASSERT_EQ(tmpl.scenes.size(), 1u);
  EXPECT_EQ(tmpl.scenes[0].pointer, "/scenes/0");
  EXPECT_EQ(tmpl.durationS(), 2);
  EXPECT_EQ(tmpl.frameCount(), 60);
  ASSERT_EQ(tmpl.scenes[0].layers.size(), 6u);
  EXPECT_EQ(tmpl.scenes[0].layers[3].pointer, "/scenes/0/layers/3");
}

TEST_F(ParserTest, ExampleLayersMapOntoModel) {
  Result<Template> parsed = loadTemplate("tests/testdata/templates/matchday.json", &problems_);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const std::vector<Layer>& layers = parsed->scenes[0].layers;

  const auto& fill = std::get<ShapeProps>(layers[0].props).fill;
  EXPECT_EQ(fill.type, FillType::kLinear);
  ASSERT_EQ(fill.stops.size(), 2u);
  EXPECT_EQ(fill.stops[1].color, "{{brand.secondary}}");
  EXPECT_EQ(layers[1].geometry.anchor, Anchor::kCenter);
  EXPECT_EQ(std::get<ImageProps>(layers[1].props).fit, Fit::kContain);
  const auto& title = std::get<TextProps>(layers[2].props);
  EXPECT_EQ(title.color, "#FFFFFFFF");
  EXPECT_EQ(title.size, 160);
  const auto& home = std::get<TextProps>(layers[3].props);
  EXPECT_EQ(home.font_family, "Bebas Neue");
  EXPECT_EQ(home.min_size, 36);
  EXPECT_EQ(home.max_lines, 2);
}

TEST_F(ParserTest, PresetsExpandIntoTracks) {
  Result<Template> parsed = loadTemplate("tests/testdata/templates/matchday.json", &problems_);
  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const std::vector<Layer>& layers = parsed->scenes[0].layers;

  ASSERT_EQ(layers[2].tracks.size(), 1u);
  const Track& fade = layers[2].tracks[0];
  EXPECT_EQ(fade.property, Property::kOpacity);
  ASSERT_EQ(fade.keyframes.size(), 2u);
  EXPECT_EQ(fade.keyframes[0].value, 0);
  EXPECT_EQ(fade.keyframes[1].time_s, 0.5);
  EXPECT_EQ(fade.keyframes[1].value, 1);

  ASSERT_EQ(layers[3].tracks.size(), 1u);
  const Track& slide = layers[3].tracks[0];
  EXPECT_EQ(slide.property, Property::kX);
  EXPECT_EQ(slide.keyframes[0].value, 40 - 500);
  EXPECT_EQ(slide.keyframes[1].value, 40);
  EXPECT_EQ(slide.keyframes[1].time_s, 0.4);
  EXPECT_EQ(slide.keyframes[1].easing, Easing::kCubicOut);

  ASSERT_EQ(layers[5].tracks.size(), 1u);
  EXPECT_EQ(layers[5].tracks[0].keyframes[1].easing, Easing::kQuadOut);
}

TEST_F(ParserTest, SlideWithoutDistanceStartsOffCanvas) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"][1].update(
      {{"x", 100}, {"width", 200}, {"animations", {{{"preset", "slide-in-left"}}}}});

  Result<Template> parsed = parse(json);

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const Track& track = parsed->scenes[0].layers[1].tracks[0];
  EXPECT_EQ(track.keyframes[0].value, 100 - 300);
  EXPECT_EQ(track.keyframes[1].time_s, 0.5);
}

TEST_F(ParserTest, MalformedJsonNamesLineAndColumn) {
  std::string text = "{\n  \"version\": 1,\n  \"scenes\": [,]\n}\n";

  Result<Template> parsed = parseTemplate(text, "template.json", &problems_);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(parsed.status().message().starts_with("template.json:3:14: syntax error: "))
      << parsed.status().message();
  ASSERT_EQ(places().size(), 1u);
  EXPECT_EQ(places()[0], "template.json:3:14");
}

TEST_F(ParserTest, UnknownLayerKindNamesPointer) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"].push_back({{"kind", "sprite"}});

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(),
            "template.json: 1 error; first: /scenes/0/layers/2/kind: unknown layer kind 'sprite'; "
            "expected one of image, text, shape, video, audio");
  EXPECT_EQ(places(), std::vector<std::string>{"/scenes/0/layers/2/kind"});
}

TEST_F(ParserTest, UnknownPropertyIsAnError) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"][0]["colour"] = "#FFFFFF";

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes/0/layers/0/colour");
  EXPECT_EQ(problems_.items()[0].message, "unknown property 'colour'; did you mean 'color'?");
}

TEST_F(ParserTest, OversizedCanvasNamesWidthAndLimit) {
  nlohmann::json json = minimal();
  json["canvas"] = {{"width", 5000}, {"height", 5000}};

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  std::vector<Diagnostic> items = problems_.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].place, "/canvas/width");
  EXPECT_EQ(items[0].message, "5000 is out of range; expected 16 to 4096");
  EXPECT_EQ(items[1].place, "/canvas/height");
}

TEST_F(ParserTest, OddCanvasSideIsRejected) {
  nlohmann::json json = minimal();
  json["canvas"] = {{"width", 1081}, {"height", 1920}};

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  std::vector<Diagnostic> items = problems_.items();
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].place, "/canvas/width");
  EXPECT_EQ(items[0].message, "width 1081 is odd; H.264 video needs even sides, use 1082");
}

TEST_F(ParserTest, SceneShorterThanFrameIsRejected) {
  nlohmann::json json = minimal();
  json["canvas"] = {{"fps", 10}};
  json["scenes"][0]["duration"] = 0.01;

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(places(), std::vector<std::string>{"/scenes/0/duration"});
  EXPECT_EQ(problems_.items()[0].message,
            "scene duration 0.01 s is shorter than one frame at 10 fps");
}

TEST_F(ParserTest, NumberBeyondDoubleIsInvalidJson) {
  Result<Template> parsed =
      parseTemplate(R"({"version": 1, "scenes": [{"duration": 1e999}]})", "huge.json", &problems_);

  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.status().message().find("huge.json: invalid JSON"), std::string::npos)
      << parsed.status().message();
}

// Found while writing fuzz/template_parser.cc: a layer kind of 100,000
// nested arrays overflowed the stack in nlohmann's dump() when the message
// quoted it, and so did a template body sent to the API.
TEST_F(ParserTest, DeepNestingIsRejectedBeforeParsing) {
  std::string text = R"({"version": 1, "scenes": [{"duration": 1, "layers": [{"kind": )" +
                     std::string(100'000, '[') + std::string(100'000, ']') + "}]}]}";

  Result<Template> parsed = parseTemplate(text, "template.json", &problems_);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parsed.status().message(),
            "template.json: arrays and objects nest deeper than 64 levels; a template needs "
            "about 10");
  EXPECT_EQ(places(), std::vector<std::string>{"template.json"});
}

TEST_F(ParserTest, TooManyLayersNamesLimit) {
  nlohmann::json json = minimal();
  nlohmann::json& layers = json["scenes"][0]["layers"];
  while (layers.size() <= static_cast<size_t>(kMaxLayers)) {
    layers.push_back({{"kind", "shape"}});
  }

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  ASSERT_EQ(problems_.items().size(), 1u);
  EXPECT_EQ(problems_.items()[0].place, "/scenes");
  EXPECT_EQ(problems_.items()[0].message, "201 layers exceed the limit of 200 layers per template");
}

TEST_F(ParserTest, CollectsEveryProblemAtOnce) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"][0]["content"] = "{{hom}}";
  json["scenes"][0]["layers"][1]["animations"] = {{{"preset", "wobble"}}};
  json["scenes"][0]["transition"] = {{"type", "crossfade"}, {"duration", 3}};
  json["scenes"][0]["layers"][0]["keyframes"] = {{"x", {{{"time", 2.5}, {"value", 1}}}}};

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(places(), (std::vector<std::string>{
                          "/scenes/0/transition/duration",
                          "/scenes/0/transition",
                          "/scenes/0/layers/0/content",
                          "/scenes/0/layers/0/keyframes/x/0/time",
                          "/scenes/0/layers/1/animations/0/preset",
                      }));
  EXPECT_TRUE(parsed.status().message().starts_with("template.json: 5 errors; first: "));
}

TEST_F(ParserTest, UnknownFilterAndEasingAreErrors) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"][0]["content"] = "{{home|shout}}";
  json["scenes"][0]["layers"][1]["keyframes"] = {
      {"opacity", {{{"time", 0}, {"value", 0}, {"easing", "bounce"}}}}};

  Result<Template> parsed = parse(json);

  ASSERT_FALSE(parsed.ok());
  std::vector<Diagnostic> items = problems_.items();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].message,
            "unknown filter 'shout'; expected one of upper, lower, trim, date, time, number, "
            "asset, default");
  EXPECT_EQ(items[1].place, "/scenes/0/layers/1/keyframes/opacity/0/easing");
}

TEST_F(ParserTest, LiteralColoursAreNormalised) {
  nlohmann::json json = minimal();
  json["scenes"][0]["background"] = "rgba(255, 0, 0, 0.5)";
  json["scenes"][0]["layers"][0]["color"] = "#abc";

  Result<Template> parsed = parse(json);

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  EXPECT_EQ(parsed->scenes[0].background, "#FF000080");
  EXPECT_EQ(std::get<TextProps>(parsed->scenes[0].layers[0].props).color, "#AABBCCFF");
  EXPECT_EQ(std::get<ShapeProps>(parsed->scenes[0].layers[1].props).fill.color, "#FF0000FF");
}

TEST_F(ParserTest, FadeOutEndsAtStartPlusDuration) {
  nlohmann::json json = minimal();
  json["scenes"][0]["layers"][1]["animations"] = {{{"preset", "fade-in"}, {"duration", 0.5}},
                                                  {{"preset", "fade-out"}, {"duration", 0.5}}};

  Result<Template> parsed = parse(json);

  ASSERT_TRUE(parsed.ok()) << parsed.status().toString();
  const Track& track = parsed->scenes[0].layers[1].tracks[0];
  ASSERT_EQ(track.keyframes.size(), 4u);
  EXPECT_EQ(track.keyframes[2].time_s, 1.5);
  EXPECT_EQ(track.keyframes[3].time_s, 2);
  EXPECT_EQ(track.keyframes[3].value, 0);
}

}  // namespace
}  // namespace smmhub::templates
