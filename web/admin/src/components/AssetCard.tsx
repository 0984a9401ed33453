// One asset in the Assets grid: its preview, name, type, size, upload time,
// a link to the file and, for editors, a delete button. The card is plain
// elements styled by AssetCard.module.css, because 60 cards of Mantine
// components cost a long task per visit.
import { memo } from "react";

import { assetTypeLabel } from "../api/content";
import type { Asset } from "../api/content";
import classes from "./AssetCard.module.css";
import { AssetPreview, pixelSize } from "./AssetPreview";
import { formatBytes, formatTime } from "./format";

// Memoised, so that typing in the search box or an upload re-renders only
// the cards that appear or go.
export const AssetCard = memo(function AssetCard({
  asset,
  canEdit,
  onDelete,
}: {
  asset: Asset;
  canEdit: boolean;
  onDelete: (asset: Asset) => void;
}) {
  const size = pixelSize(asset);
  return (
    <div
      className={classes.card}
      role="listitem"
      aria-label={asset.name}
      data-testid="asset-card"
      data-asset-id={asset.id}
    >
      <div className={classes.media}>
        <AssetPreview asset={asset} height={140} />
      </div>
      <div className={classes.body}>
        <p className={classes.name} title={asset.name}>
          {asset.name}
        </p>
        <div className={classes.facts}>
          <span className={classes.badge}>{assetTypeLabel(asset.media_type)}</span>
          <p className={classes.dimmed}>
            {formatBytes(asset.bytes)}
            {size ? ` · ${size}` : ""}
          </p>
        </div>
        <p className={classes.dimmed}>Uploaded {formatTime(asset.created_at_ms)}</p>
        <div className={classes.actions}>
          <a className={classes.link} href={asset.content_url} target="_blank" rel="noopener">
            Open file
          </a>
          {canEdit ? (
            <button
              type="button"
              className={classes.delete}
              onClick={() => onDelete(asset)}
              aria-label={`Delete ${asset.name}`}
            >
              Delete
            </button>
          ) : null}
        </div>
      </div>
    </div>
  );
});
