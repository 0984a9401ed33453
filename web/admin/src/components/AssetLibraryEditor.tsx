// One asset library of a brand kit: its name, an import from index.json and
// images, and the table of names to image assets, each editable on its own.
import {
  Button,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from "@mantine/core";
import { useState } from "react";
import type { ReactNode } from "react";

import type { Asset } from "../api/content";
import { AssetLibraryImport } from "./AssetLibraryImport";
import { AssetPicker } from "./AssetPicker";

// The table shows a filter above this many entries.
const FILTER_FROM = 8;

let rowCounter = 0;

// A key for a new row, stable while the row lives, so that React keeps its inputs.
export function newRowKey(): string {
  rowCounter += 1;
  return `r${rowCounter}`;
}

export interface LibraryEntryRow {
  key: string;
  name: string;
  assetId: string;
}

export interface LibraryRow {
  key: string;
  name: string;
  entries: LibraryEntryRow[];
}

// Merges imported ENTRIES into ROWS: a name already present gets the new
// asset, a new name is added at the end in the index's order.
export function mergeEntries(
  rows: LibraryEntryRow[],
  entries: Record<string, string>,
): LibraryEntryRow[] {
  const merged = rows.map((row) =>
    row.name in entries ? { ...row, assetId: entries[row.name] } : row,
  );
  const present = new Set(rows.map((row) => row.name));
  for (const [name, assetId] of Object.entries(entries)) {
    if (!present.has(name)) {
      merged.push({ key: newRowKey(), name, assetId });
    }
  }
  return merged;
}

// The brand kit form's lookup of a field's error and DOM id, so that 422
// pointers into a library land next to the matching input here.
export interface FieldLookup {
  error: (field: string) => ReactNode;
  id: (field: string) => string;
}

export function AssetLibraryEditor({
  library,
  assets,
  fields,
  onChange,
  onRemove,
  onUploaded,
  disabled,
}: {
  library: LibraryRow;
  assets: Asset[];
  fields: FieldLookup;
  onChange: (change: (library: LibraryRow) => LibraryRow) => void;
  onRemove: () => void;
  onUploaded: (asset: Asset) => void;
  disabled: boolean;
}) {
  const [filter, setFilter] = useState("");
  const title = library.name.trim() || "New library";
  const query = filter.trim().toLowerCase();
  const visibleEntries = library.entries.filter(
    (entry) => query === "" || entry.name.toLowerCase().includes(query),
  );

  function changeEntry(key: string, change: Partial<LibraryEntryRow>) {
    onChange((current) => ({
      ...current,
      entries: current.entries.map((entry) =>
        entry.key === key ? { ...entry, ...change } : entry,
      ),
    }));
  }

  return (
    <Paper
      component="section"
      withBorder
      p="md"
      radius="md"
      data-testid="brandkit-library"
      aria-label={`Library ${title}`}
    >
      <Stack gap="md">
        <Group align="flex-end" justify="space-between" gap="sm" wrap="wrap">
          <TextInput
            label="Library name"
            description={
              library.name.trim()
                ? `Templates look a value up with {{home|asset:${library.name.trim()}}}.`
                : "Such as crests; templates look a value up with {{home|asset:crests}}."
            }
            required
            value={library.name}
            onChange={(event) => {
              const name = event.currentTarget.value;
              onChange((current) => ({ ...current, name }));
            }}
            error={fields.error(`library:${library.key}`)}
            id={fields.id(`library:${library.key}`)}
            data-testid="brandkit-library-name"
            style={{ flex: "1 1 260px" }}
          />
          <Button
            variant="subtle"
            color="red"
            onClick={onRemove}
            aria-label={`Remove library ${title}`}
          >
            Remove library
          </Button>
        </Group>

        <AssetLibraryImport
          assets={assets}
          onUploaded={onUploaded}
          onImported={(entries) =>
            onChange((current) => ({ ...current, entries: mergeEntries(current.entries, entries) }))
          }
          disabled={disabled}
          testId="brandkit-library-import"
          dropTestId="brandkit-library-drop"
        />

        <Group justify="space-between" align="flex-end" gap="sm" wrap="wrap">
          <Text size="sm" fw={600}>
            {library.entries.length === 0
              ? "No entries yet"
              : `${library.entries.length} ${library.entries.length === 1 ? "entry" : "entries"}`}
          </Text>
          {library.entries.length > FILTER_FROM ? (
            <TextInput
              label="Filter entries"
              placeholder="Arsenal"
              size="xs"
              value={filter}
              onChange={(event) => setFilter(event.currentTarget.value)}
              w={220}
            />
          ) : null}
        </Group>

        {library.entries.length > 0 ? (
          <Table.ScrollContainer minWidth={560}>
            <Table verticalSpacing="xs" data-testid="brandkit-library-entries">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w="40%">Name in the data</Table.Th>
                  <Table.Th>Image</Table.Th>
                  <Table.Th w={90}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {visibleEntries.map((entry, index) => {
                  const label = entry.name.trim() || `entry ${index + 1}`;
                  return (
                    <Table.Tr key={entry.key} data-testid="brandkit-library-entry">
                      <Table.Td style={{ verticalAlign: "top" }}>
                        <TextInput
                          aria-label={`Name of ${label} in library ${title}`}
                          placeholder="Arsenal FC"
                          value={entry.name}
                          onChange={(event) =>
                            changeEntry(entry.key, { name: event.currentTarget.value })
                          }
                          error={fields.error(`entry:${library.key}:${entry.key}:name`)}
                          id={fields.id(`entry:${library.key}:${entry.key}:name`)}
                        />
                      </Table.Td>
                      <Table.Td style={{ verticalAlign: "top" }}>
                        <AssetPicker
                          ariaLabel={`Image for ${label}`}
                          assets={assets}
                          kinds={["image"]}
                          value={entry.assetId}
                          onChange={(assetId) => changeEntry(entry.key, { assetId })}
                          error={fields.error(`entry:${library.key}:${entry.key}`)}
                          id={fields.id(`entry:${library.key}:${entry.key}`)}
                          placeholder="Choose an image"
                          preview={32}
                          disabled={disabled}
                        />
                      </Table.Td>
                      <Table.Td style={{ verticalAlign: "top" }}>
                        <Button
                          variant="subtle"
                          color="red"
                          size="xs"
                          aria-label={`Remove ${label} from library ${title}`}
                          onClick={() =>
                            onChange((current) => ({
                              ...current,
                              entries: current.entries.filter((item) => item.key !== entry.key),
                            }))
                          }
                        >
                          Remove
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : null}
        {library.entries.length > 0 && visibleEntries.length === 0 ? (
          <Text size="sm" c="dimmed">
            No entry name contains “{filter.trim()}”.
          </Text>
        ) : null}

        <Group gap="sm">
          <Button
            variant="light"
            onClick={() =>
              onChange((current) => ({
                ...current,
                entries: [...current.entries, { key: newRowKey(), name: "", assetId: "" }],
              }))
            }
            data-testid="brandkit-library-entry-add"
          >
            Add entry
          </Button>
          <Text size="xs" c="dimmed">
            One name and image at a time; images come from Assets or an import above.
          </Text>
        </Group>
      </Stack>
    </Paper>
  );
}
