// Library import: an index.json that maps names to image files, chosen or
// dropped together with those files. Each named image becomes an asset, and
// the result is the library {name: asset_id} with a report of what failed.
import { Alert, Group, List, Progress, Stack, Text } from "@mantine/core";
import { useState } from "react";

import { ACCEPTED_IMAGE_FILES } from "../api/content";
import type { Asset } from "../api/content";
import { AssetDropZone, runLimited, uploadErrorLines, uploadOrReuse } from "./AssetUpload";

const PARALLEL_UPLOADS = 3;

export interface LibraryImportReport {
  imported: number; // names that now have an asset
  reused: number; // of those, files already uploaded with the same bytes
  missing: string[]; // names whose file was not among the chosen files
  failed: { file: string; names: string[]; message: string }[];
  unused: string[]; // chosen files that the index does not name
}

// An index that cannot be read. The message states what to fix.
class IndexError extends Error {}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1];
}

async function readIndex(file: File): Promise<Record<string, string>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await file.text());
  } catch (error) {
    throw new IndexError(
      `${file.name} is not valid JSON (${error instanceof Error ? error.message : error}); ` +
        'it must be an object such as {"Arsenal FC": "arsenal-fc.svg"}',
    );
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new IndexError(
      `${file.name} must be a JSON object of names to file names, such as ` +
        '{"Arsenal FC": "arsenal-fc.svg"}',
    );
  }
  const index: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) {
    if (typeof value !== "string" || value === "") {
      throw new IndexError(`${file.name}: the entry "${name}" must be a file name`);
    }
    index[name] = value;
  }
  if (Object.keys(index).length === 0) {
    throw new IndexError(`${file.name} names no files`);
  }
  return index;
}

// Chooses the index among FILES: the only .json file, or the one called index.json.
function findIndex(files: File[]): File {
  const json = files.filter((file) => file.name.toLowerCase().endsWith(".json"));
  if (json.length === 1) {
    return json[0];
  }
  const named = json.filter((file) => file.name.toLowerCase() === "index.json");
  if (named.length === 1) {
    return named[0];
  }
  if (json.length === 0) {
    throw new IndexError(
      "No index.json among the chosen files. Choose the library's index.json together with " +
        "the images it names.",
    );
  }
  throw new IndexError(
    `Several JSON files were chosen (${json.map((file) => file.name).join(", ")}); ` +
      "choose only the library's index.json with its images.",
  );
}

// Imports FILES (an index and images) and returns the library entries with a
// report. An image whose bytes match an existing asset reuses that asset.
export async function importLibrary(
  files: File[],
  existing: Asset[],
  onUploaded: (asset: Asset) => void,
  onProgress: (done: number, total: number) => void,
): Promise<{ entries: Record<string, string>; report: LibraryImportReport }> {
  const indexFile = findIndex(files);
  const index = await readIndex(indexFile);

  const images = files.filter((file) => file !== indexFile);
  const byName = new Map<string, File>();
  const byLowerName = new Map<string, File>();
  for (const file of images) {
    byName.set(file.name, file);
    byLowerName.set(file.name.toLowerCase(), file);
  }

  // Names per file, so that a file that two names share uploads once.
  const namesByFile = new Map<File, string[]>();
  const missing: string[] = [];
  for (const [name, path] of Object.entries(index)) {
    const base = baseName(path);
    const file = byName.get(base) ?? byLowerName.get(base.toLowerCase());
    if (!file) {
      missing.push(`${name} (${path})`);
      continue;
    }
    namesByFile.set(file, [...(namesByFile.get(file) ?? []), name]);
  }
  const unused = images.filter((file) => !namesByFile.has(file)).map((file) => file.name);

  const entries: Record<string, string> = {};
  const failed: LibraryImportReport["failed"] = [];
  let reused = 0;
  let done = 0;
  const queue = Array.from(namesByFile.entries());
  onProgress(0, queue.length);

  await runLimited(queue, PARALLEL_UPLOADS, async ([file, names]) => {
    try {
      const { asset, reused: wasReused } = await uploadOrReuse(file, existing);
      if (wasReused) {
        reused += 1;
      } else {
        onUploaded(asset);
      }
      for (const name of names) {
        entries[name] = asset.id;
      }
    } catch (error) {
      const lines = uploadErrorLines(error);
      const message = [lines.message, ...lines.details].join("; ");
      failed.push({ file: file.name, names, message });
    }
    done += 1;
    onProgress(done, queue.length);
  });

  return {
    entries,
    report: {
      imported: Object.keys(entries).length,
      reused,
      missing,
      failed,
      unused,
    },
  };
}

function reusedNote(reused: number): string {
  if (reused === 0) {
    return "";
  }
  if (reused === 1) {
    return "1 image was already uploaded and is reused. ";
  }
  return `${reused} images were already uploaded and are reused. `;
}

function ReportList({ title, items }: { title: string; items: string[] }) {
  if (items.length === 0) {
    return null;
  }
  return (
    <Stack gap={2}>
      <Text size="sm" fw={600}>
        {title}
      </Text>
      <List size="sm" spacing={0}>
        {items.map((item, index) => (
          <List.Item key={index}>{item}</List.Item>
        ))}
      </List>
    </Stack>
  );
}

// The drop zone and file button of an import, its progress and its report.
// ONIMPORTED receives the entries to merge into the library.
export function AssetLibraryImport({
  assets,
  onUploaded,
  onImported,
  disabled = false,
  testId,
  dropTestId,
}: {
  assets: Asset[];
  onUploaded: (asset: Asset) => void;
  onImported: (entries: Record<string, string>) => void;
  disabled?: boolean;
  testId?: string;
  dropTestId?: string;
}) {
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [report, setReport] = useState<LibraryImportReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  async function start(files: File[]) {
    setReport(null);
    setProblem(null);
    setProgress({ done: 0, total: 0 });
    try {
      const result = await importLibrary(files, assets, onUploaded, (done, total) =>
        setProgress({ done, total }),
      );
      onImported(result.entries);
      setReport(result.report);
    } catch (error) {
      setProblem(error instanceof Error ? error.message : String(error));
    } finally {
      setProgress(null);
    }
  }

  const accept = `.json,application/json,${ACCEPTED_IMAGE_FILES}`;
  return (
    <Stack gap="sm">
      <AssetDropZone
        onFiles={(files) => void start(files)}
        accept={accept}
        disabled={disabled || progress !== null}
        title="Import from an index.json and its images"
        hint={
          "Choose or drop the index.json, which maps names to file names such as " +
          '{"Arsenal FC": "arsenal-fc.svg"}, together with every image it names. ' +
          "Each image is uploaded as an asset."
        }
        buttonLabel="Choose index.json and images"
        testId={dropTestId}
        buttonTestId={testId}
      />
      {progress !== null ? (
        <Stack gap={4} role="status" aria-live="polite">
          <Text size="sm">
            {progress.total === 0
              ? "Reading the index…"
              : `Uploading images: ${progress.done} of ${progress.total}`}
          </Text>
          <Progress
            value={progress.total === 0 ? 100 : (progress.done / progress.total) * 100}
            animated={progress.total === 0}
            striped={progress.total === 0}
            aria-label="Import progress"
          />
        </Stack>
      ) : null}
      {problem ? (
        <Alert color="red" variant="light" title="Could not import the library" role="alert">
          {problem}
        </Alert>
      ) : null}
      {report ? (
        <Alert
          color={report.failed.length + report.missing.length > 0 ? "yellow" : "green"}
          variant="light"
          title={`Imported ${report.imported} ${report.imported === 1 ? "name" : "names"}`}
          data-testid="brandkit-library-import-report"
          aria-live="polite"
        >
          <Stack gap="xs">
            <Group gap="xs">
              <Text size="sm">
                {reusedNote(report.reused)}
                Save the brand kit to keep the library.
              </Text>
            </Group>
            <ReportList
              title="Names without a file among the chosen files"
              items={report.missing}
            />
            <ReportList
              title="Files that failed to upload"
              items={report.failed.map(
                (failure) => `${failure.file} (${failure.names.join(", ")}): ${failure.message}`,
              )}
            />
            <ReportList title="Chosen files that index.json does not name" items={report.unused} />
          </Stack>
        </Alert>
      ) : null}
    </Stack>
  );
}
