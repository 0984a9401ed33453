// Sections of the brand kit editor that edit a list of rows: colours, fonts
// and named assets. Each row shows its own errors from the FieldLookup.
import {
  Box,
  Button,
  ColorInput,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { ReactNode } from "react";

import { ACCEPTED_FONT_FILES } from "../api/content";
import type { Asset } from "../api/content";
import { newRowKey } from "./AssetLibraryEditor";
import type { FieldLookup } from "./AssetLibraryEditor";
import { AssetPicker } from "./AssetPicker";
import type { ColorRow, FontRow, NamedAssetRow } from "./BrandKitModel";

// A change to a list of rows, applied to the latest state.
export type RowsChange<T> = (change: (rows: T[]) => T[]) => void;

function patchRow<T extends { key: string }>(rows: T[], key: string, patch: Partial<T>): T[] {
  return rows.map((row) => (row.key === key ? { ...row, ...patch } : row));
}

function withoutRow<T extends { key: string }>(rows: T[], key: string): T[] {
  return rows.filter((row) => row.key !== key);
}

export function SectionTitle({ children, hint }: { children: ReactNode; hint?: ReactNode }) {
  return (
    <Stack gap={2}>
      <Title order={2} size="h4">
        {children}
      </Title>
      {hint ? (
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Stack>
  );
}

// A section's own error, such as a 422 on /libraries as a whole.
export function SectionError({ message }: { message: ReactNode }) {
  if (!message) {
    return null;
  }
  return (
    <Text size="sm" c="red" role="alert">
      {message}
    </Text>
  );
}

export function ColorsSection({
  rows,
  onChange,
  fields,
}: {
  rows: ColorRow[];
  onChange: RowsChange<ColorRow>;
  fields: FieldLookup;
}) {
  return (
    <Stack gap="sm">
      <SectionTitle hint="Templates use a colour as {{brand.NAME}}, such as {{brand.primary}}.">
        Colours
      </SectionTitle>
      <SectionError message={fields.error("colors")} />
      {rows.map((row, index) => (
        <Group
          key={row.key}
          align="flex-start"
          gap="sm"
          wrap="wrap"
          data-testid="brandkit-color"
        >
          <TextInput
            label={`Colour ${index + 1} name`}
            placeholder="primary"
            value={row.name}
            onChange={(event) => {
              const name = event.currentTarget.value;
              onChange((current) => patchRow(current, row.key, { name }));
            }}
            error={fields.error(`color:${row.key}:name`)}
            id={fields.id(`color:${row.key}:name`)}
            data-testid={`brandkit-color-name-${index}`}
            style={{ flex: "1 1 160px" }}
          />
          <ColorInput
            label={`Colour ${index + 1} value`}
            format="hex"
            placeholder="#0B1D51"
            value={row.value}
            onChange={(value) => onChange((current) => patchRow(current, row.key, { value }))}
            error={fields.error(`color:${row.key}`)}
            id={fields.id(`color:${row.key}`)}
            data-testid={`brandkit-color-value-${index}`}
            style={{ flex: "1 1 200px" }}
          />
          <Button
            variant="subtle"
            color="red"
            mt={25}
            onClick={() => onChange((current) => withoutRow(current, row.key))}
            aria-label={`Remove colour ${row.name.trim() || index + 1}`}
          >
            Remove
          </Button>
        </Group>
      ))}
      <Group>
        <Button
          variant="light"
          onClick={() =>
            onChange((current) => [...current, { key: newRowKey(), name: "", value: "" }])
          }
          data-testid="brandkit-color-add"
        >
          Add colour
        </Button>
      </Group>
    </Stack>
  );
}

const weightOptions = [
  { value: "", label: "Default" },
  { value: "100", label: "100 Thin" },
  { value: "200", label: "200 Extra light" },
  { value: "300", label: "300 Light" },
  { value: "400", label: "400 Regular" },
  { value: "500", label: "500 Medium" },
  { value: "600", label: "600 Semi-bold" },
  { value: "700", label: "700 Bold" },
  { value: "800", label: "800 Extra bold" },
  { value: "900", label: "900 Black" },
];

function FontCard({
  row,
  index,
  onChange,
  fields,
  assets,
  onUploaded,
  disabled,
}: {
  row: FontRow;
  index: number;
  onChange: RowsChange<FontRow>;
  fields: FieldLookup;
  assets: Asset[];
  onUploaded: (asset: Asset) => void;
  disabled: boolean;
}) {
  const role = row.role.trim() || `font ${index + 1}`;
  // Test ids name the role, such as brandkit-font-display-family, while it has one.
  const testRole = row.role.trim() || String(index);
  const patch = (change: Partial<FontRow>) =>
    onChange((current) => patchRow(current, row.key, change));

  return (
    <Paper withBorder p="md" radius="md" data-testid="brandkit-font">
      <Stack gap="sm">
        <Group align="flex-start" gap="sm" wrap="nowrap">
          <TextInput
            label="Role"
            description="Such as display or body"
            value={row.role}
            onChange={(event) => patch({ role: event.currentTarget.value })}
            error={fields.error(`font:${row.key}:role`)}
            id={fields.id(`font:${row.key}:role`)}
            data-testid={`brandkit-font-role-${index}`}
            style={{ flex: 1 }}
          />
          <Button
            variant="subtle"
            color="red"
            mt={48}
            onClick={() => onChange((current) => withoutRow(current, row.key))}
            aria-label={`Remove the ${role} font`}
          >
            Remove
          </Button>
        </Group>
        <TextInput
          label={`Family of the ${role} font`}
          required
          placeholder={index === 0 ? "Bebas Neue" : "Inter"}
          value={row.family}
          onChange={(event) => patch({ family: event.currentTarget.value })}
          error={fields.error(`font:${row.key}:family`)}
          id={fields.id(`font:${row.key}:family`)}
          data-testid={`brandkit-font-${testRole}-family`}
        />
        <Select
          label={`Weight of the ${role} font`}
          data={weightOptions}
          value={row.weight}
          onChange={(value) => patch({ weight: value ?? "" })}
          allowDeselect={false}
          error={fields.error(`font:${row.key}:weight`)}
          id={fields.id(`font:${row.key}:weight`)}
          data-testid={`brandkit-font-${testRole}-weight`}
        />
        <AssetPicker
          label={`Font file of the ${role} font`}
          description="Optional: a TTF, OTF, WOFF or WOFF2 asset."
          assets={assets}
          kinds={["font"]}
          value={row.assetId}
          onChange={(assetId) => patch({ assetId })}
          error={fields.error(`font:${row.key}:asset`)}
          id={fields.id(`font:${row.key}:asset`)}
          placeholder="Installed family"
          preview={0}
          disabled={disabled}
          upload={{
            label: "Upload font",
            accept: ACCEPTED_FONT_FILES,
            testId: `brandkit-font-${testRole}-upload`,
            onUploaded,
          }}
        />
      </Stack>
    </Paper>
  );
}

export function FontsSection({
  rows,
  onChange,
  fields,
  assets,
  onUploaded,
  disabled,
}: {
  rows: FontRow[];
  onChange: RowsChange<FontRow>;
  fields: FieldLookup;
  assets: Asset[];
  onUploaded: (asset: Asset) => void;
  disabled: boolean;
}) {
  return (
    <Stack gap="sm">
      <SectionTitle
        hint={
          "Templates use a font's family as {{brand.fonts.ROLE}}. Without a font file, " +
          "the render workers use an installed family of that name."
        }
      >
        Fonts
      </SectionTitle>
      <SectionError message={fields.error("fonts")} />
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {rows.map((row, index) => (
          <FontCard
            key={row.key}
            row={row}
            index={index}
            onChange={onChange}
            fields={fields}
            assets={assets}
            onUploaded={onUploaded}
            disabled={disabled}
          />
        ))}
      </SimpleGrid>
      <Group>
        <Button
          variant="light"
          onClick={() =>
            onChange((current) => [
              ...current,
              { key: newRowKey(), role: "", family: "", weight: "", assetId: "" },
            ])
          }
          data-testid="brandkit-font-add"
        >
          Add font
        </Button>
      </Group>
    </Stack>
  );
}

export function NamedAssetsSection({
  rows,
  onChange,
  fields,
  assets,
  onUploaded,
  disabled,
}: {
  rows: NamedAssetRow[];
  onChange: RowsChange<NamedAssetRow>;
  fields: FieldLookup;
  assets: Asset[];
  onUploaded: (asset: Asset) => void;
  disabled: boolean;
}) {
  return (
    <Stack gap="sm">
      <SectionTitle
        hint={
          "Other files by name, such as music. Templates reach them as {{brand.NAME}}, " +
          "for example {{brand.music}}."
        }
      >
        Named assets
      </SectionTitle>
      <SectionError message={fields.error("assets")} />
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          No named assets.
        </Text>
      ) : null}
      {rows.map((row, index) => (
        <Paper key={row.key} withBorder p="sm" radius="md" data-testid="brandkit-asset">
          <Group align="flex-start" gap="sm" wrap="wrap">
            <TextInput
              label="Name"
              placeholder="music"
              value={row.name}
              onChange={(event) => {
                const name = event.currentTarget.value;
                onChange((current) => patchRow(current, row.key, { name }));
              }}
              error={fields.error(`asset:${row.key}:name`)}
              id={fields.id(`asset:${row.key}:name`)}
              data-testid={`brandkit-asset-name-${index}`}
              style={{ flex: "1 1 160px" }}
            />
            <Box style={{ flex: "3 1 320px" }}>
              <AssetPicker
                label={`Asset for ${row.name.trim() || `row ${index + 1}`}`}
                assets={assets}
                value={row.assetId}
                onChange={(assetId) =>
                  onChange((current) => patchRow(current, row.key, { assetId }))
                }
                error={fields.error(`asset:${row.key}`)}
                id={fields.id(`asset:${row.key}`)}
                preview={40}
                disabled={disabled}
                testId={`brandkit-asset-${index}`}
                upload={{
                  label: "Upload file",
                  testId: `brandkit-asset-upload-${index}`,
                  onUploaded,
                }}
              />
            </Box>
            <Button
              variant="subtle"
              color="red"
              mt={25}
              onClick={() => onChange((current) => withoutRow(current, row.key))}
              aria-label={`Remove the named asset ${row.name.trim() || index + 1}`}
            >
              Remove
            </Button>
          </Group>
        </Paper>
      ))}
      <Group>
        <Button
          variant="light"
          onClick={() =>
            onChange((current) => [...current, { key: newRowKey(), name: "", assetId: "" }])
          }
          data-testid="brandkit-asset-add"
        >
          Add named asset
        </Button>
      </Group>
    </Stack>
  );
}
