// The render engine's version, in a header of its own, so that programs that
// do not link the engine (smmhub-api) can key caches of what it renders.
#pragma once

#include <string_view>

namespace smmhub {

// Changes whenever the engine's output for the same inputs can change; part
// of every cache key of rendered output. render::kEngineVersion is this value.
inline constexpr std::string_view kRenderEngineVersion = "smmhub-engine-3";

}  // namespace smmhub
