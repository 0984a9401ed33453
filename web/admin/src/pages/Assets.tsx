// Assets: the tenant's images and fonts as a grid with previews, uploads by
// file picker or drag and drop, a filter by type and name, and deletion.
import { Button, Group, Select, SimpleGrid, Stack, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useCallback, useMemo, useState } from "react";

import { ApiError } from "../api/client";
import {
  ACCEPTED_ASSET_FILES,
  assetKind,
  deleteAsset,
  MAX_ASSET_BYTES,
} from "../api/content";
import type { Asset, AssetKind, AssetList } from "../api/content";
import { canAct } from "../api/session";
import { AssetCard } from "../components/AssetCard";
import {
  AssetDropZone,
  AssetFileButton,
  AssetUploadList,
  useAssetUploads,
} from "../components/AssetUpload";
import { Dialog } from "../components/Dialog";
import { formatBytes } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

const assetsPath = "/api/v1/assets";

const kindLabels: Record<AssetKind, string> = {
  image: "Images",
  font: "Fonts",
  audio: "Audio",
  other: "Other",
};

const uploadHint =
  "Images as PNG, JPEG, GIF, WebP or SVG (logos, crests, backgrounds) and fonts as TTF, " +
  `OTF, WOFF or WOFF2, up to ${formatBytes(MAX_ASSET_BYTES)} each. ` +
  "Brand kits and templates use them by name.";

function DeleteAssetModal({
  asset,
  onClose,
  onDeleted,
}: {
  asset: Asset | null;
  onClose: () => void;
  onDeleted: (asset: Asset) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  function close() {
    setError(null);
    onClose();
  }

  async function confirm() {
    if (!asset) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await deleteAsset(asset.id);
      onDeleted(asset);
      close();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const inUse = error instanceof ApiError && error.status === 409;
  return (
    <Dialog opened={asset !== null} onClose={close} title="Delete asset" centered>
      <Stack gap="md">
        <Text size="sm">
          Delete <b>{asset?.name}</b>? Templates and brand kits that name it can no longer use it,
          and the file cannot be restored.
        </Text>
        {error ? (
          <ErrorAlert
            error={error}
            title={inUse ? "The asset is in use" : "Could not delete the asset"}
          />
        ) : null}
        {inUse ? (
          <Text size="sm" c="dimmed">
            Remove it from that brand kit first, then delete it here.
          </Text>
        ) : null}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color="red"
            onClick={() => void confirm()}
            loading={busy}
            data-testid="asset-delete-confirm"
          >
            Delete
          </Button>
        </Group>
      </Stack>
    </Dialog>
  );
}

// The request of the asset library, asked for at a click on its link.
export function preload(): string[] {
  return [assetsPath];
}

export default function AssetsPage() {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const { data, error, loading, reload } = useResource<AssetList>(assetsPath);
  const [kind, setKind] = useState<string>("all");
  const [search, setSearch] = useState("");
  const [deleting, setDeleting] = useState<Asset | null>(null);

  // The list as shown: the last GET, plus uploads and minus deletions since.
  // It follows a new GET during the same render, so that the grid appears in
  // the first render with the answer rather than after an effect.
  const [assets, setAssets] = useState<Asset[]>([]);
  const [listed, setListed] = useState<AssetList | undefined>(undefined);
  if (data !== listed) {
    setListed(data);
    if (data) {
      setAssets(data.assets);
    }
  }

  // Adds an uploaded asset in name order, as GET /api/v1/assets returns them.
  const addAsset = useCallback((asset: Asset) => {
    setAssets((current) =>
      [...current.filter((item) => item.id !== asset.id), asset].sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
    );
  }, []);
  const uploads = useAssetUploads(addAsset);

  const kindsPresent = useMemo(() => {
    const present = new Set<AssetKind>(["image", "font"]);
    for (const asset of assets) {
      present.add(assetKind(asset.media_type));
    }
    return (Object.keys(kindLabels) as AssetKind[]).filter((item) => present.has(item));
  }, [assets]);

  const query = search.trim().toLowerCase();
  const matching = assets.filter(
    (asset) =>
      (kind === "all" || assetKind(asset.media_type) === kind) &&
      (query === "" || asset.name.toLowerCase().includes(query)),
  );

  function removed(asset: Asset) {
    setAssets((current) => current.filter((item) => item.id !== asset.id));
    notifications.show({ color: "green", message: `Deleted ${asset.name}` });
  }

  let body;
  if (loading && data === undefined) {
    body = <Loading label="Loading assets" />;
  } else if (error && data === undefined) {
    body = (
      <ErrorAlert error={error} title="Could not load the assets" onRetry={() => void reload()} />
    );
  } else if (assets.length === 0) {
    body = (
      <EmptyState title="No assets yet">
        {canEdit
          ? "Upload your agency's logos, team crests, backgrounds and fonts with the area above."
          : "An editor of your agency uploads logos, crests and fonts here."}
      </EmptyState>
    );
  } else {
    body = (
      <Stack gap="md">
        <Group gap="sm" align="flex-end" wrap="wrap">
          <TextInput
            label="Search by name"
            placeholder="logo, crest, Inter…"
            value={search}
            onChange={(event) => setSearch(event.currentTarget.value)}
            style={{ flex: "1 1 220px" }}
            data-testid="assets-search"
          />
          <Select
            label="Type"
            data={[
              { value: "all", label: "All types" },
              ...kindsPresent.map((item) => ({ value: item, label: kindLabels[item] })),
            ]}
            value={kind}
            onChange={(next) => setKind(next ?? "all")}
            allowDeselect={false}
            w={160}
            data-testid="assets-type"
          />
        </Group>
        <Text size="sm" c="dimmed" aria-live="polite">
          {matching.length === assets.length
            ? `${assets.length} ${assets.length === 1 ? "asset" : "assets"}`
            : `${matching.length} of ${assets.length} assets match`}
        </Text>
        {matching.length === 0 ? (
          <EmptyState
            title="No assets match"
            action={
              <Button
                variant="light"
                onClick={() => {
                  setSearch("");
                  setKind("all");
                }}
              >
                Show all assets
              </Button>
            }
          >
            No asset of that type has a name containing “{search.trim()}”.
          </EmptyState>
        ) : (
          <SimpleGrid
            cols={{ base: 1, xs: 2, sm: 3, lg: 4 }}
            spacing="md"
            data-testid="assets-grid"
            role="list"
            aria-label="Assets"
          >
            {matching.map((asset) => (
              <AssetCard key={asset.id} asset={asset} canEdit={canEdit} onDelete={setDeleting} />
            ))}
          </SimpleGrid>
        )}
      </Stack>
    );
  }

  return (
    <>
      <PageHeader
        title="Assets"
        description="Images and fonts that brand kits and templates use."
        actions={
          canEdit ? (
            <AssetFileButton
              onFiles={(files) => void uploads.start(files)}
              accept={ACCEPTED_ASSET_FILES}
              multiple
              testId="assets-upload"
            >
              Upload files
            </AssetFileButton>
          ) : null
        }
      />
      <Stack gap="lg">
        {canEdit ? (
          <AssetDropZone
            onFiles={(files) => void uploads.start(files)}
            accept={ACCEPTED_ASSET_FILES}
            title="Drop images and fonts here"
            hint={uploadHint}
            buttonLabel="Choose files"
            testId="assets-dropzone"
          />
        ) : null}
        <AssetUploadList uploads={uploads} />
        {error && data !== undefined ? (
          <ErrorAlert
            error={error}
            title="Could not refresh the assets"
            onRetry={() => void reload()}
          />
        ) : null}
        {body}
      </Stack>
      <DeleteAssetModal asset={deleting} onClose={() => setDeleting(null)} onDeleted={removed} />
    </>
  );
}
