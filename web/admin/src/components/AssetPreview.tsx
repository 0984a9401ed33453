// Asset previews: the image itself, sample letters in a font asset's own
// face, or a player for audio. They are plain elements styled by
// AssetPreview.module.css, because the Assets grid shows one per card.
import { useEffect, useState } from "react";

import { assetKind, assetTypeLabel } from "../api/content";
import type { Asset } from "../api/content";
import classes from "./AssetPreview.module.css";

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
    <div className={`${classes.box} ${classes.font}`} style={{ height }}>
      <p
        aria-hidden
        className={classes.sample}
        style={{
          fontFamily: family ? `"${family}", sans-serif` : undefined,
          fontSize: Math.min(48, height * 0.45),
        }}
      >
        Aa
      </p>
      <p className={classes.caption}>
        {failed ? `${assetTypeLabel(asset.media_type)} font, no preview` : "Font sample"}
      </p>
    </div>
  );
}

// A preview of ASSET in a box HEIGHT pixels tall.
export function AssetPreview({ asset, height = 120 }: { asset: Asset; height?: number }) {
  const kind = assetKind(asset.media_type);
  if (kind === "image") {
    return (
      <div className={`${classes.box} ${classes.image}`} style={{ height }}>
        <img src={asset.content_url} alt={asset.name} loading="lazy" decoding="async" />
      </div>
    );
  }
  if (kind === "font") {
    return <FontSample asset={asset} height={height} />;
  }
  if (kind === "audio") {
    return (
      <div className={classes.box} style={{ height }}>
        <audio
          className={classes.audio}
          controls
          preload="none"
          src={asset.content_url}
          aria-label={`Play ${asset.name}`}
        />
      </div>
    );
  }
  return (
    <div className={classes.box} style={{ height }}>
      <p className={classes.type}>{asset.media_type}</p>
    </div>
  );
}

// The asset's pixel size, or why it has none.
export function pixelSize(asset: Asset): string {
  if (asset.width > 0 && asset.height > 0) {
    return `${asset.width} × ${asset.height} px`;
  }
  return assetKind(asset.media_type) === "image" ? "no pixel size" : "";
}
