// Asset previews: the image itself, sample letters in a font asset's own
// face, or a player for audio.
import { Center, Image, Stack, Text } from "@mantine/core";
import { useEffect, useState } from "react";

import { assetKind, assetTypeLabel } from "../api/content";
import type { Asset } from "../api/content";

// A checkerboard, so that transparent logos stay visible on any background.
const checkerboard =
  "repeating-conic-gradient(var(--mantine-color-gray-1) 0% 25%, " +
  "var(--mantine-color-white) 0% 50%) 50% / 16px 16px";

// Font faces already requested, by asset id, so that each loads once per page visit.
const fontLoads = new Map<string, Promise<string>>();

// Loads ASSET as a FontFace and returns the family name that CSS can use.
function loadFont(asset: Asset): Promise<string> {
  let load = fontLoads.get(asset.id);
  if (!load) {
    const family = `smmhub-asset-${asset.id}`;
    const face = new FontFace(family, `url("${asset.content_url}")`);
    load = face.load().then((loaded) => {
      document.fonts.add(loaded);
      return family;
    });
    fontLoads.set(asset.id, load);
  }
  return load;
}

function FontSample({ asset, height }: { asset: Asset; height: number }) {
  const [family, setFamily] = useState<string | null>(null);
  const [failed, setFailed] = useState(false);

  useEffect(() => {
    let live = true;
    loadFont(asset)
      .then((loaded) => live && setFamily(loaded))
      .catch(() => live && setFailed(true));
    return () => {
      live = false;
    };
  }, [asset]);

  return (
    <Stack gap={2} align="center" justify="center" h={height}>
      <Text
        aria-hidden
        style={{
          fontFamily: family ? `"${family}", sans-serif` : undefined,
          fontSize: Math.min(48, height * 0.45),
          lineHeight: 1.1,
        }}
      >
        Aa
      </Text>
      <Text size="xs" c="dimmed">
        {failed ? `${assetTypeLabel(asset.media_type)} font, no preview` : "Font sample"}
      </Text>
    </Stack>
  );
}

// A preview of ASSET in a box HEIGHT pixels tall.
export function AssetPreview({ asset, height = 120 }: { asset: Asset; height?: number }) {
  const kind = assetKind(asset.media_type);
  if (kind === "image") {
    return (
      <Center h={height} style={{ background: checkerboard, borderRadius: 6 }}>
        <Image
          src={asset.content_url}
          alt={asset.name}
          h={height - 8}
          w="100%"
          fit="contain"
          loading="lazy"
          decoding="async"
        />
      </Center>
    );
  }
  if (kind === "font") {
    return <FontSample asset={asset} height={height} />;
  }
  if (kind === "audio") {
    return (
      <Center h={height}>
        <audio
          controls
          preload="none"
          src={asset.content_url}
          aria-label={`Play ${asset.name}`}
          style={{ width: "100%" }}
        />
      </Center>
    );
  }
  return (
    <Center h={height}>
      <Text size="sm" c="dimmed">
        {asset.media_type}
      </Text>
    </Center>
  );
}

// The asset's pixel size, or why it has none.
export function pixelSize(asset: Asset): string {
  if (asset.width > 0 && asset.height > 0) {
    return `${asset.width} × ${asset.height} px`;
  }
  return assetKind(asset.media_type) === "image" ? "no pixel size" : "";
}
