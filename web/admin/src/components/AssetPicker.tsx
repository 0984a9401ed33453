// A searchable choice of one of the tenant's assets, with a small preview of
// the chosen one and, optionally, a button that uploads a new one in place.
import { Box, Group, Image, Select, Stack, Text } from "@mantine/core";
import { useState } from "react";
import type { ReactNode } from "react";

import { assetKind, assetTypeLabel } from "../api/content";
import type { Asset, AssetKind } from "../api/content";
import { AssetFileButton, uploadErrorLines, uploadOrReuse } from "./AssetUpload";
import { AssetPreview } from "./AssetPreview";

export interface AssetPickerUpload {
  label: string;
  accept?: string;
  testId?: string;
  // Receives a newly stored asset, which the picker then selects. A file whose
  // bytes match a listed asset selects that asset and uploads nothing.
  onUploaded: (asset: Asset) => void;
}

export function AssetPicker({
  label,
  ariaLabel,
  description,
  assets,
  kinds,
  value,
  onChange,
  error,
  placeholder = "Choose an asset",
  disabled = false,
  required = false,
  preview = 40,
  upload,
  id,
  testId,
}: {
  label?: ReactNode;
  ariaLabel?: string;
  description?: ReactNode;
  assets: Asset[];
  kinds?: AssetKind[]; // the kinds offered; all when unset
  value: string;
  onChange: (id: string) => void;
  error?: ReactNode;
  placeholder?: string;
  disabled?: boolean;
  required?: boolean;
  preview?: number; // preview height in pixels; 0 shows none
  upload?: AssetPickerUpload;
  id?: string;
  testId?: string;
}) {
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<unknown>(null);

  const byId = new Map(assets.map((asset) => [asset.id, asset]));
  const offered = assets.filter(
    (asset) => !kinds || kinds.includes(assetKind(asset.media_type)) || asset.id === value,
  );
  const data = offered.map((asset) => ({
    value: asset.id,
    label: `${asset.name} (${assetTypeLabel(asset.media_type)})`,
  }));
  if (value && !byId.has(value)) {
    // An id the kit names but the asset list lacks: keep it visible, not blank.
    data.push({ value, label: `Unknown asset ${value}` });
  }
  const chosen = value ? byId.get(value) : undefined;

  async function uploadOne(files: File[]) {
    if (!upload || files.length === 0) {
      return;
    }
    setUploading(true);
    setUploadError(null);
    try {
      const { asset, reused } = await uploadOrReuse(files[0], assets);
      if (!reused) {
        upload.onUploaded(asset);
      }
      onChange(asset.id);
    } catch (caught) {
      setUploadError(caught);
    } finally {
      setUploading(false);
    }
  }

  const failure = uploadError ? uploadErrorLines(uploadError) : null;

  return (
    <Stack gap={4}>
      <Group align="flex-end" gap="sm" wrap="wrap">
        <Select
          label={label}
          aria-label={ariaLabel}
          description={description}
          data={data}
          value={value || null}
          onChange={(next) => onChange(next ?? "")}
          placeholder={data.length === 0 ? "No matching assets yet" : placeholder}
          searchable
          clearable={!required}
          nothingFoundMessage="No asset has that name"
          error={error}
          disabled={disabled}
          required={required}
          id={id}
          data-testid={testId}
          style={{ flex: "1 1 220px", minWidth: 0 }}
          renderOption={({ option }) => {
            const asset = byId.get(option.value);
            return (
              <Group gap="xs" wrap="nowrap">
                {asset && assetKind(asset.media_type) === "image" ? (
                  <Image src={asset.content_url} alt="" w={24} h={24} fit="contain" />
                ) : null}
                <Text size="sm">{option.label}</Text>
              </Group>
            );
          }}
        />
        {upload ? (
          <AssetFileButton
            onFiles={(files) => void uploadOne(files)}
            accept={upload.accept}
            loading={uploading}
            disabled={disabled}
            testId={upload.testId}
            variant="default"
          >
            {upload.label}
          </AssetFileButton>
        ) : null}
        {chosen && preview > 0 ? (
          <Box w={preview * 1.5} style={{ flex: "none" }}>
            <AssetPreview asset={chosen} height={preview} />
          </Box>
        ) : null}
      </Group>
      {failure ? (
        <Text size="sm" c="red" role="alert">
          {failure.message}
          {failure.details.length > 0 ? `: ${failure.details.join("; ")}` : ""}
        </Text>
      ) : null}
    </Stack>
  );
}
