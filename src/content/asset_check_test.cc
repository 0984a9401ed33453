#include "content/asset_check.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "content/media.h"
#include "content/svg.h"

namespace smmhub::content {
namespace {

std::string readFixture(const std::string& path) {
  std::ifstream file("tests/testdata/" + path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "missing fixture tests/testdata/" << path;
  return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

struct SniffCase {
  std::string fixture;
  MediaType type;
  std::int64_t width;
  std::int64_t height;
};

TEST(SniffMediaTest, ReadsTypeAndSizeFromHeaders) {
  const SniffCase cases[] = {
      {"images/crest-rgba16.png", MediaType::kPng, 240, 280},
      {"images/crest-bomb-30000x30000.png", MediaType::kPng, 30000, 30000},
      {"images/photo-orient3.jpg", MediaType::kJpeg, 300, 400},
      {"images/crest-cmyk-noicc.jpg", MediaType::kJpeg, 400, 300},
      {"images/crest-jpeg-named-png.png", MediaType::kJpeg, 240, 280},
      {"content/jpeg-sof-60000x50000.jpg", MediaType::kJpeg, 60000, 50000},
      {"images/logo-animated-optimized.gif", MediaType::kGif, 200, 200},
      {"content/gif-screen-65535x65535.gif", MediaType::kGif, 65535, 65535},
      {"images/logo-animated.webp", MediaType::kWebp, 200, 200},
      {"content/webp-vp8-64x48.webp", MediaType::kWebp, 64, 48},
      {"content/webp-vp8l-33x17.webp", MediaType::kWebp, 33, 17},
      {"content/webp-vp8x-16384x16384.webp", MediaType::kWebp, 16384, 16384},
      {"images/crest-good.svg", MediaType::kSvg, 0, 0},
      {"content/tiny-truetype.ttf", MediaType::kTtf, 0, 0},
      {"content/tiny-opentype.otf", MediaType::kOtf, 0, 0},
      {"content/tiny.woff2", MediaType::kWoff2, 0, 0},
  };
  for (const SniffCase& expected : cases) {
    SCOPED_TRACE(expected.fixture);

    Result<MediaInfo> info = sniffMedia(readFixture(expected.fixture));

    ASSERT_TRUE(info.ok()) << info.status().toString();
    EXPECT_EQ(info->type, expected.type);
    EXPECT_EQ(info->width, expected.width);
    EXPECT_EQ(info->height, expected.height);
  }
}

TEST(SniffMediaTest, UnknownContentIsNamed) {
  Result<MediaInfo> html = sniffMedia(readFixture("images/crest-html-error-page.png"));
  Result<MediaInfo> empty = sniffMedia(readFixture("images/crest-zero-bytes.png"));
  Result<MediaInfo> xhtml = sniffMedia(readFixture("content/xhtml-page.svg"));
  Result<MediaInfo> xml = sniffMedia("<?xml version=\"1.0\"?>\n<note><to>Ann</to></note>\n");
  Result<MediaInfo> text = sniffMedia("name,colour\nArsenal,red\n");

  ASSERT_FALSE(html.ok());
  EXPECT_EQ(html.status().message(),
            "the content is an HTML document, not an image, font or audio file");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().message(), "the file is empty");
  ASSERT_FALSE(xhtml.ok());
  EXPECT_EQ(xhtml.status().message(),
            "the content is an HTML document, not an image, font or audio file");
  ASSERT_FALSE(xml.ok());
  EXPECT_EQ(xml.status().message(), "the content is XML whose root element is not <svg>");
  ASSERT_FALSE(text.ok());
  EXPECT_EQ(text.status().message(),
            "the content is of an unknown type; supported are PNG, JPEG, GIF, WebP, SVG, TTF, "
            "OTF, WOFF, WOFF2, WAV, MP3, M4A, Ogg and FLAC");
}

TEST(SniffMediaTest, ReadsAudioTypes) {
  const std::pair<std::string, MediaType> cases[] = {
      {"golden/brand/music.wav", MediaType::kWav},
      {"content/tone-float.wav", MediaType::kWav},
      {"content/tone-s24.wav", MediaType::kWav},  // WAVE_FORMAT_EXTENSIBLE
      {"content/tone-id3.mp3", MediaType::kMp3},
      {"content/tone-frames.mp3", MediaType::kMp3},
      {"content/tone.m4a", MediaType::kM4a},
      {"content/tone-vorbis.ogg", MediaType::kOgg},
      {"content/tone-opus.ogg", MediaType::kOgg},
      {"content/tone.flac", MediaType::kFlac},
      {"video/music-96k-24bit-mono.flac", MediaType::kFlac},
  };
  for (const auto& [fixture, type] : cases) {
    SCOPED_TRACE(fixture);

    Result<MediaInfo> info = sniffMedia(readFixture(fixture));

    ASSERT_TRUE(info.ok()) << info.status().toString();
    EXPECT_EQ(info->type, type);
    EXPECT_TRUE(isAudio(info->type));
    EXPECT_EQ(info->width, 0);
    EXPECT_EQ(info->height, 0);
  }
}

TEST(SniffMediaTest, UnsupportedAudioIsNamed) {
  // An Ogg page whose first packet is a Theora header.
  std::string theora = std::string("OggS\0\2", 6) + std::string(20, '\0') +
                       std::string("\1\x2a", 2) + "\x80theora" + std::string(34, '\0');
  std::string mp3 = readFixture("content/tone-frames.mp3");

  Result<MediaInfo> adts = sniffMedia(readFixture("content/tone.aac"));
  Result<MediaInfo> ogg_video = sniffMedia(theora);
  Result<MediaInfo> mp4_video = sniffMedia(readFixture("video/phone-vfr.mp4"));
  Result<MediaInfo> adpcm = sniffMedia(readFixture("content/tone-adpcm.wav"));
  Result<MediaInfo> cut_mp3 = sniffMedia(std::string("ID3\4\0\0\0\0\1\0", 10) + mp3.substr(0, 20));
  Result<MediaInfo> noise = sniffMedia(std::string("\xff\xfb\x14\xc4", 4) + std::string(200, 'x'));

  ASSERT_FALSE(adts.ok());
  EXPECT_EQ(adts.status().message(),
            "the content is raw AAC (ADTS); upload AAC audio inside an M4A file");
  ASSERT_FALSE(ogg_video.ok());
  EXPECT_EQ(ogg_video.status().message(),
            "the content is an Ogg stream of Theora video; supported in Ogg are Vorbis and Opus "
            "audio");
  ASSERT_FALSE(mp4_video.ok());
  EXPECT_EQ(mp4_video.status().message(),
            "the content is an MP4 or QuickTime file without the M4A brand; upload audio as an "
            "M4A file (video files are not accepted)");
  ASSERT_FALSE(adpcm.ok());
  EXPECT_EQ(adpcm.status().message(),
            "unsupported WAV codec 0x0011; supported are PCM (0x0001), IEEE float (0x0003), "
            "A-law (0x0006) and mu-law (0x0007); convert the file to PCM");
  ASSERT_FALSE(cut_mp3.ok());
  EXPECT_EQ(cut_mp3.status().message(),
            "invalid MP3: the file ends before its first audio frame, inside its ID3 tag");
  // One frame header followed by bytes that are not the next frame.
  ASSERT_FALSE(noise.ok());
  EXPECT_EQ(detectMediaType(std::string("\xff\xfb\x14\xc4", 4) + std::string(200, 'x')),
            std::nullopt);
}

TEST(SniffMediaTest, MalformedHeadersAreInvalid) {
  Result<MediaInfo> no_frame = sniffMedia(readFixture("content/jpeg-no-frame.jpg"));
  Result<MediaInfo> zero_tables = sniffMedia(readFixture("content/zero-tables.ttf"));
  Result<MediaInfo> short_png = sniffMedia(std::string("\x89PNG\r\n\x1a\n\0\0\0\r", 12));
  std::string woff2 = readFixture("content/tiny.woff2");
  Result<MediaInfo> cut_woff2 = sniffMedia(woff2.substr(0, 40));

  ASSERT_FALSE(no_frame.ok());
  EXPECT_EQ(no_frame.status().message(),
            "invalid JPEG: no start-of-frame marker before the image data");
  ASSERT_FALSE(zero_tables.ok());
  EXPECT_EQ(zero_tables.status().message(),
            "invalid TrueType font: table count 0 does not fit a file of 28 bytes");
  ASSERT_FALSE(short_png.ok());
  EXPECT_EQ(short_png.status().message(), "invalid PNG: the file ends before its IHDR chunk");
  ASSERT_FALSE(cut_woff2.ok());
  EXPECT_EQ(cut_woff2.status().message(),
            "invalid WOFF2 font: the header gives a length of 48 bytes but the file has 40");
}

TEST(MediaTypeTest, NamesAndExtensions) {
  EXPECT_EQ(mediaTypeFromName("IMAGE/PNG; charset=binary"), MediaType::kPng);
  EXPECT_EQ(mediaTypeFromName("image/jpg"), MediaType::kJpeg);
  EXPECT_EQ(mediaTypeFromName("image/svg+xml"), MediaType::kSvg);
  EXPECT_EQ(mediaTypeFromName("text/html"), std::nullopt);
  EXPECT_EQ(mediaTypeFromExtension("Crest.JPEG"), MediaType::kJpeg);
  EXPECT_EQ(mediaTypeFromExtension("font.woff2"), MediaType::kWoff2);
  EXPECT_EQ(mediaTypeFromExtension("Arsenal FC"), std::nullopt);
  EXPECT_EQ(mediaTypeFromExtension("report.v2"), std::nullopt);
  EXPECT_EQ(mediaTypeExtension(MediaType::kJpeg), "jpg");
  EXPECT_EQ(mediaTypeName(MediaType::kWoff2), "font/woff2");
}

TEST(MediaTypeTest, AudioNamesAndExtensions) {
  EXPECT_EQ(mediaTypeFromName("audio/wav"), MediaType::kWav);
  EXPECT_EQ(mediaTypeFromName("audio/x-wav"), MediaType::kWav);
  EXPECT_EQ(mediaTypeFromName("audio/mpeg"), MediaType::kMp3);
  EXPECT_EQ(mediaTypeFromName("audio/x-m4a"), MediaType::kM4a);
  EXPECT_EQ(mediaTypeFromName("audio/ogg; codecs=opus"), MediaType::kOgg);
  EXPECT_EQ(mediaTypeFromName("audio/x-flac"), MediaType::kFlac);
  EXPECT_EQ(mediaTypeFromName("audio/aac"), std::nullopt);
  EXPECT_EQ(mediaTypeFromExtension("music.WAV"), MediaType::kWav);
  EXPECT_EQ(mediaTypeFromExtension("voice.opus"), MediaType::kOgg);
  EXPECT_EQ(mediaTypeFromExtension("song.m4a"), MediaType::kM4a);
  EXPECT_EQ(mediaTypeFromExtension("song.aac"), std::nullopt);
  EXPECT_EQ(mediaTypeExtension(MediaType::kM4a), "m4a");
  EXPECT_EQ(mediaTypeName(MediaType::kM4a), "audio/mp4");
  EXPECT_FALSE(isAudio(MediaType::kPng));
  EXPECT_FALSE(isFont(MediaType::kWav));
}

TEST(CheckSvgTest, AcceptsInternalReferencesAndReadsUnits) {
  Diagnostics problems;

  Result<SvgSize> size = checkSvg(readFixture("content/safe-references.svg"), &problems);

  ASSERT_TRUE(size.ok()) << size.status().toString();
  EXPECT_EQ(size->width, 192);  // 2in at 96 dpi
  EXPECT_EQ(size->height, 38);  // 10mm = 37.8 px, rounded up
  EXPECT_TRUE(problems.items().empty());
}

TEST(CheckSvgTest, SizeFallsBackToViewBox) {
  Result<SvgSize> viewbox_only = checkSvg(readFixture("images/crest-viewbox-only.svg"), nullptr);
  Result<SvgSize> percent = checkSvg(readFixture("images/crest-percent-size.svg"), nullptr);
  Result<SvgSize> huge = checkSvg(readFixture("images/logo-huge-canvas.svg"), nullptr);

  ASSERT_TRUE(viewbox_only.ok()) << viewbox_only.status().toString();
  EXPECT_EQ(viewbox_only->width, 120);
  EXPECT_EQ(viewbox_only->height, 140);
  ASSERT_TRUE(percent.ok()) << percent.status().toString();
  EXPECT_EQ(percent->width, 120);
  EXPECT_EQ(percent->height, 140);
  ASSERT_TRUE(huge.ok()) << huge.status().toString();
  EXPECT_EQ(huge->width, 100000);
  EXPECT_EQ(huge->height, 100000);
}

struct HostileSvg {
  std::string fixture;
  std::vector<std::string> problems;  // "PLACE: MESSAGE"
};

TEST(CheckSvgTest, HostileFilesNameElementAndLine) {
  const HostileSvg cases[] = {
      {"content/script.svg",
       {"line 3: <script> is not allowed: it can run code or embed another document"}},
      {"content/onload.svg",
       {"line 1: <svg> attribute onload is an event handler, which is not allowed",
        "line 2: <rect> attribute onclick is an event handler, which is not allowed"}},
      {"content/foreign-object.svg",
       {"line 2: <foreignObject> is not allowed: it can run code or embed another document"}},
      {"content/animate-href.svg",
       {"line 3: <set> attribute attributeName animates 'xlink:href', which is not allowed"}},
      {"images/logo-external-reference.svg",
       {"line 2: <style> text has url(http://example.com/bg.png) pointing outside the document; "
        "only '#id' and data:image/png or data:image/jpeg base64 are allowed",
        "line 5: <image> attribute xlink:href points outside the document "
        "('http://example.com/x.png'); only '#id' and data:image/png or data:image/jpeg base64 "
        "are allowed"}},
      {"content/style-links.svg",
       {"line 2: <style> text uses @import, which loads another file",
        "line 2: <style> text has url(https://fonts.example/x.css) pointing outside the "
        "document; only '#id' and data:image/png or data:image/jpeg base64 are allowed",
        "line 3: <rect> attribute style has url(https://tracker.example/p.png) pointing outside "
        "the document; only '#id' and data:image/png or data:image/jpeg base64 are allowed",
        "line 4: <rect> attribute fill has url(/etc/passwd) pointing outside the document; only "
        "'#id' and data:image/png or data:image/jpeg base64 are allowed"}},
      {"content/entities.svg",
       {"line 1: the DOCTYPE declares entities, which SVG files must not use"}},
      {"content/external-entity.svg",
       {"line 4: the DOCTYPE declares entities, which SVG files must not use"}},
      {"content/broken.svg",
       {"line 3: not well-formed XML: Opening and ending tag mismatch: rect line 2 and svg"}},
  };
  for (const HostileSvg& hostile : cases) {
    SCOPED_TRACE(hostile.fixture);
    Diagnostics problems;

    Result<SvgSize> size = checkSvg(readFixture(hostile.fixture), &problems);

    ASSERT_FALSE(size.ok());
    EXPECT_EQ(size.status().code(), StatusCode::kInvalidArgument);
    std::vector<std::string> found;
    for (const Diagnostic& problem : problems.items()) {
      found.push_back(problem.place + ": " + problem.message);
    }
    EXPECT_EQ(found, hostile.problems);
  }
}

TEST(AssetNameTest, ValidNamesPass) {
  const std::string names[] = {"crest.png",         "Arsenal FC",   "a",
                               "logo v2.final.svg", "Café München", std::string(100, 'x')};
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(checkAssetName(name).ok()) << checkAssetName(name).toString();
  }
}

TEST(AssetNameTest, InvalidNamesSayWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "asset name is empty; give 1 to 100 characters"},
      {std::string(101, 'x'), "asset name has 101 bytes; the limit is 100"},
      {"../../etc/passwd",
       "asset name '../../etc/passwd' contains a path ('../'); give a plain name without '/' or "
       "'\\'"},
      {"..\\boot.ini",
       "asset name '..\\boot.ini' contains a path ('../'); give a plain name without '/' or '\\'"},
      {"logos/crest.png",
       "asset name 'logos/crest.png' contains '/' or '\\'; give a plain name, not a path"},
      {std::string("crest\0.png", 10), "asset name contains the control character 0 at byte 5"},
      {"crest\n.png", "asset name contains the control character 10 at byte 5"},
      {".", "asset name '.' is not allowed"},
      {"..", "asset name '..' is not allowed"},
      {".htaccess", "asset name '.htaccess' starts with a dot; hidden names are not allowed"},
  };
  for (const auto& [name, message] : cases) {
    SCOPED_TRACE(name);

    Status status = checkAssetName(name);

    EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), message);
  }
}

TEST(CheckAssetTest, AcceptsMatchingDeclarations) {
  std::string png = readFixture("images/crest-rgba16.png");
  AssetRejection rejection;

  Result<CheckedAsset> checked =
      checkAsset({.name = "crest.png", .declared_type = "image/png", .bytes = png}, {}, &rejection);
  Result<CheckedAsset> undeclared =
      checkAsset({.name = "Arsenal FC", .declared_type = "application/octet-stream", .bytes = png},
                 {}, nullptr);

  ASSERT_TRUE(checked.ok()) << checked.status().toString();
  EXPECT_EQ(checked->media.type, MediaType::kPng);
  EXPECT_EQ(checked->media.width, 240);
  EXPECT_EQ(rejection.reason, AssetRejection::kNone);
  ASSERT_TRUE(undeclared.ok()) << undeclared.status().toString();
}

TEST(CheckAssetTest, DeclaredTypeMustAgree) {
  std::string jpeg = readFixture("images/crest-jpeg-named-png.png");
  AssetRejection by_name;
  AssetRejection by_header;
  AssetRejection unsupported;

  Result<CheckedAsset> named = checkAsset({.name = "crest.png", .bytes = jpeg}, {}, &by_name);
  Result<CheckedAsset> headed =
      checkAsset({.name = "crest", .declared_type = "image/png", .bytes = jpeg}, {}, &by_header);
  Result<CheckedAsset> html =
      checkAsset({.name = "crest", .declared_type = "text/html", .bytes = jpeg}, {}, &unsupported);

  ASSERT_FALSE(named.ok());
  EXPECT_EQ(by_name.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(named.status().message(),
            "asset 'crest.png' is named as image/png by its extension but its content is "
            "image/jpeg");
  ASSERT_FALSE(headed.ok());
  EXPECT_EQ(by_header.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(headed.status().message(),
            "asset 'crest' is declared as image/png by its Content-Type but its content is "
            "image/jpeg");
  ASSERT_FALSE(html.ok());
  EXPECT_EQ(unsupported.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(html.status().message(),
            "declared Content-Type 'text/html' is not a supported asset type; supported are "
            "image/png, image/jpeg, image/gif, image/webp, image/svg+xml, font/ttf, font/otf, "
            "font/woff, font/woff2, audio/wav, audio/mpeg, audio/mp4, audio/ogg and audio/flac");
}

TEST(CheckAssetTest, UnknownContentIsUnsupported) {
  std::string html = readFixture("images/crest-html-error-page.png");
  AssetRejection rejection;

  Result<CheckedAsset> checked = checkAsset({.name = "crest", .bytes = html}, {}, &rejection);

  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(rejection.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(checked.status().message(),
            "asset 'crest': the content is an HTML document, not an image, font or audio file");
}

struct BombCase {
  std::string fixture;
  std::string message;
};

TEST(CheckAssetTest, PixelLimitsStopBombs) {
  const BombCase cases[] = {
      {"images/crest-bomb-30000x30000.png",
       "asset 'bomb' declares a canvas of 30000x30000 pixels; each side may be at most 16384"},
      {"content/jpeg-sof-60000x50000.jpg",
       "asset 'bomb' declares a canvas of 60000x50000 pixels; each side may be at most 16384"},
      {"content/gif-screen-65535x65535.gif",
       "asset 'bomb' declares a canvas of 65535x65535 pixels; each side may be at most 16384"},
      {"content/webp-vp8x-16384x16384.webp",
       "asset 'bomb' declares a canvas of 16384x16384 pixels (268435456); the limit is "
       "40000000"},
      {"images/logo-huge-canvas.svg",
       "asset 'bomb' declares a canvas of 100000x100000 pixels; each side may be at most 16384"},
  };
  for (const BombCase& bomb : cases) {
    SCOPED_TRACE(bomb.fixture);
    std::string bytes = readFixture(bomb.fixture);
    AssetRejection rejection;

    Result<CheckedAsset> checked = checkAsset({.name = "bomb", .bytes = bytes}, {}, &rejection);

    ASSERT_FALSE(checked.ok());
    EXPECT_EQ(checked.status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(rejection.reason, AssetRejection::kInvalidContent);
    EXPECT_EQ(checked.status().message(), bomb.message);
  }
}

TEST(CheckAssetTest, ByteLimitIsResourceExhausted) {
  std::string png = readFixture("images/crest-rgba16.png");
  AssetRejection rejection;

  Result<CheckedAsset> checked =
      checkAsset({.name = "crest.png", .bytes = png}, {.max_bytes = 1000}, &rejection);

  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(checked.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(rejection.reason, AssetRejection::kTooLarge);
  EXPECT_EQ(checked.status().message(),
            "asset 'crest.png' has 28048 bytes; the limit for images and fonts is 1000");
}

TEST(CheckAssetTest, AudioDeclarationsMustAgree) {
  std::string wav = readFixture("golden/brand/music.wav");
  std::string m4a = readFixture("content/tone.m4a");
  AssetRejection accepted;
  AssetRejection by_header;
  AssetRejection by_name;

  Result<CheckedAsset> music = checkAsset(
      {.name = "music.wav", .declared_type = "audio/x-wav", .bytes = wav}, {}, &accepted);
  Result<CheckedAsset> headed =
      checkAsset({.name = "song", .declared_type = "audio/mpeg", .bytes = m4a}, {}, &by_header);
  Result<CheckedAsset> named = checkAsset({.name = "song.wav", .bytes = m4a}, {}, &by_name);

  ASSERT_TRUE(music.ok()) << music.status().toString();
  EXPECT_EQ(accepted.reason, AssetRejection::kNone);
  EXPECT_EQ(music->media.type, MediaType::kWav);
  ASSERT_FALSE(headed.ok());
  EXPECT_EQ(by_header.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(headed.status().message(),
            "asset 'song' is declared as audio/mpeg by its Content-Type but its content is "
            "audio/mp4");
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(by_name.reason, AssetRejection::kUnsupportedType);
  EXPECT_EQ(named.status().message(),
            "asset 'song.wav' is named as audio/wav by its extension but its content is "
            "audio/mp4");
}

TEST(CheckAssetTest, AudioHasItsOwnByteLimit) {
  std::string wav = readFixture("content/tone-float.wav");   // 9680 bytes
  std::string png = readFixture("images/crest-rgba16.png");  // 28048 bytes
  const AssetLimits limits{.max_bytes = 1000, .max_audio_bytes = 30000};
  AssetRejection wav_rejection;
  AssetRejection png_rejection;
  AssetRejection small_rejection;

  Result<CheckedAsset> audio =
      checkAsset({.name = "tone.wav", .bytes = wav}, limits, &wav_rejection);
  Result<CheckedAsset> image =
      checkAsset({.name = "crest.png", .bytes = png}, limits, &png_rejection);
  Result<CheckedAsset> small_audio =
      checkAsset({.name = "tone.wav", .bytes = wav}, {.max_audio_bytes = 5000}, &small_rejection);

  EXPECT_TRUE(audio.ok()) << audio.status().toString();
  ASSERT_FALSE(image.ok());
  EXPECT_EQ(png_rejection.reason, AssetRejection::kTooLarge);
  EXPECT_EQ(image.status().message(),
            "asset 'crest.png' has 28048 bytes; the limit for images and fonts is 1000");
  ASSERT_FALSE(small_audio.ok());
  EXPECT_EQ(small_rejection.reason, AssetRejection::kTooLarge);
  EXPECT_EQ(small_audio.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(small_audio.status().message(),
            "asset 'tone.wav' has 9680 bytes; the limit for audio is 5000");
}

TEST(CheckAssetTest, UnsafeSvgCarriesDetails) {
  std::string svg = readFixture("content/script.svg");
  AssetRejection rejection;

  Result<CheckedAsset> checked = checkAsset({.name = "logo.svg", .bytes = svg}, {}, &rejection);

  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(rejection.reason, AssetRejection::kInvalidContent);
  EXPECT_EQ(checked.status().message(),
            "asset 'logo.svg': invalid SVG: 1 problem; first: line 3: <script> is not allowed: "
            "it can run code or embed another document");
  ASSERT_EQ(rejection.details.size(), 1u);
  EXPECT_EQ(rejection.details[0].place, "line 3");
}

TEST(CheckAssetTest, InvalidNameIsRejectedFirst) {
  std::string png = readFixture("images/crest-rgba16.png");
  AssetRejection rejection;

  Result<CheckedAsset> checked = checkAsset({.name = "../crest.png", .bytes = png}, {}, &rejection);

  ASSERT_FALSE(checked.ok());
  EXPECT_EQ(rejection.reason, AssetRejection::kInvalidName);
}

}  // namespace
}  // namespace smmhub::content
