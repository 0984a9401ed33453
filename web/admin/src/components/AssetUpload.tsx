// Asset uploads: a file button and a drop zone that hand over files, a hook
// that uploads them a few at a time, and the per-file list of results.
import { Badge, Button, Group, Paper, Progress, Stack, Text } from "@mantine/core";
import { useCallback, useEffect, useRef, useState } from "react";
import type { CSSProperties, DragEvent, ReactNode } from "react";

import { ApiError, describeError } from "../api/client";
import { MAX_ASSET_BYTES, uploadAsset } from "../api/content";
import type { Asset } from "../api/content";
import { formatBytes } from "./format";

// Uploads in flight at once. The API stores each file before it responds, so
// a few in flight keep uploads moving without queueing many 20 MiB bodies.
const PARALLEL_UPLOADS = 3;

// Hidden from sight but still focusable, so that Tab reaches the file input.
const visuallyHidden: CSSProperties = {
  position: "absolute",
  width: 1,
  height: 1,
  padding: 0,
  margin: -1,
  overflow: "hidden",
  clip: "rect(0 0 0 0)",
  whiteSpace: "nowrap",
  border: 0,
};

const focusRing: CSSProperties = {
  outline: "2px solid var(--mantine-primary-color-filled)",
  outlineOffset: 2,
};

// A button that opens the file dialog. It is a <label> around a real file
// input, so clicks, the keyboard and Playwright's setInputFiles all reach it.
export function AssetFileButton({
  children,
  onFiles,
  accept,
  multiple = false,
  disabled = false,
  loading = false,
  testId,
  variant = "filled",
  size = "sm",
}: {
  children: ReactNode;
  onFiles: (files: File[]) => void;
  accept?: string;
  multiple?: boolean;
  disabled?: boolean;
  loading?: boolean;
  testId?: string;
  variant?: string;
  size?: string;
}) {
  const [focused, setFocused] = useState(false);
  return (
    <Button
      component="label"
      variant={variant}
      size={size}
      loading={loading}
      disabled={disabled}
      data-testid={testId}
      style={{ cursor: disabled ? "not-allowed" : "pointer", ...(focused ? focusRing : {}) }}
    >
      {children}
      <input
        type="file"
        accept={accept}
        multiple={multiple}
        disabled={disabled || loading}
        style={visuallyHidden}
        onFocus={() => setFocused(true)}
        onBlur={() => setFocused(false)}
        onChange={(event) => {
          const files = Array.from(event.currentTarget.files ?? []);
          // Cleared so that choosing the same file again fires another change.
          event.currentTarget.value = "";
          if (files.length > 0) {
            onFiles(files);
          }
        }}
      />
    </Button>
  );
}

// A dashed area that takes dropped files, with a file button inside for
// people who do not drag.
export function AssetDropZone({
  onFiles,
  accept,
  multiple = true,
  disabled = false,
  title,
  hint,
  buttonLabel,
  testId,
  buttonTestId,
}: {
  onFiles: (files: File[]) => void;
  accept?: string;
  multiple?: boolean;
  disabled?: boolean;
  title: string;
  hint?: ReactNode;
  buttonLabel: string;
  testId?: string;
  buttonTestId?: string;
}) {
  const [active, setActive] = useState(false);
  // dragenter and dragleave fire for every child, so count the depth.
  const depth = useRef(0);

  function enter(event: DragEvent) {
    event.preventDefault();
    depth.current += 1;
    setActive(true);
  }
  function leave(event: DragEvent) {
    event.preventDefault();
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) {
      setActive(false);
    }
  }
  function drop(event: DragEvent) {
    event.preventDefault();
    depth.current = 0;
    setActive(false);
    if (disabled) {
      return;
    }
    const files = Array.from(event.dataTransfer.files);
    if (files.length > 0) {
      onFiles(multiple ? files : files.slice(0, 1));
    }
  }

  return (
    <Paper
      withBorder
      p="lg"
      radius="md"
      data-testid={testId}
      onDragEnter={enter}
      onDragOver={(event) => event.preventDefault()}
      onDragLeave={leave}
      onDrop={drop}
      style={{
        borderStyle: "dashed",
        borderWidth: 2,
        borderColor: active ? "var(--mantine-primary-color-filled)" : undefined,
        background: active ? "var(--mantine-primary-color-light)" : undefined,
      }}
    >
      <Stack align="center" gap="xs">
        <Text fw={600} ta="center">
          {active ? "Drop to upload" : title}
        </Text>
        {hint ? (
          <Text size="sm" c="dimmed" ta="center" maw={520}>
            {hint}
          </Text>
        ) : null}
        <AssetFileButton
          onFiles={onFiles}
          accept={accept}
          multiple={multiple}
          disabled={disabled}
          testId={buttonTestId}
          variant="light"
        >
          {buttonLabel}
        </AssetFileButton>
      </Stack>
    </Paper>
  );
}

// Uploads FILE under its own name, rejecting a file above the server's limit
// before sending it.
export function uploadFile(file: File, signal?: AbortSignal): Promise<Asset> {
  if (file.size > MAX_ASSET_BYTES) {
    return Promise.reject(
      new Error(
        `${file.name} is ${formatBytes(file.size)}, above the upload limit of ` +
          `${formatBytes(MAX_ASSET_BYTES)}; make it smaller and try again`,
      ),
    );
  }
  if (file.size === 0) {
    return Promise.reject(new Error(`${file.name} is empty; choose another file`));
  }
  return uploadAsset(file, file.name, signal);
}

// The SHA-256 of FILE in hex, as the API reports it, or null where the
// browser offers no Web Crypto (pages served over plain HTTP to another host).
export async function sha256Hex(file: Blob): Promise<string | null> {
  if (!globalThis.crypto?.subtle) {
    return null;
  }
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  const bytes = Array.from(new Uint8Array(digest));
  return bytes.map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

// Returns the asset among EXISTING with FILE's bytes, else uploads FILE. Asset
// names are unique, so uploading the same file again would fail with 409.
export async function uploadOrReuse(
  file: File,
  existing: Asset[],
): Promise<{ asset: Asset; reused: boolean }> {
  const sha = await sha256Hex(file);
  const match = sha ? existing.find((asset) => asset.sha256.toLowerCase() === sha) : undefined;
  if (match) {
    return { asset: match, reused: true };
  }
  return { asset: await uploadFile(file), reused: false };
}

// Runs WORK on each of ITEMS with at most LIMIT running at once.
export async function runLimited<T>(
  items: T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  async function lane() {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      await work(item);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

// The lines of an upload's error: the server's message, then each detail
// (an SVG problem with its line) that the message does not already contain.
export function uploadErrorLines(error: unknown): { message: string; details: string[] } {
  const message = describeError(error);
  const details =
    error instanceof ApiError
      ? error.details
          .filter((detail) => !message.includes(detail.message))
          .map((detail) =>
            detail.line ? `line ${detail.line}: ${detail.message}` : detail.message,
          )
      : [];
  return { message, details };
}

export type UploadStatus = "waiting" | "uploading" | "done" | "failed";

export interface UploadItem {
  key: string;
  file: File;
  status: UploadStatus;
  asset?: Asset;
  error?: unknown;
}

export interface AssetUploads {
  items: UploadItem[];
  busy: boolean;
  start: (files: File[]) => Promise<void>;
  clearFinished: () => void;
}

let uploadCounter = 0;

// Uploads files, each its own request, and keeps each one's state. A failed
// file does not stop the others. ONUPLOADED runs for each stored asset.
export function useAssetUploads(onUploaded: (asset: Asset) => void): AssetUploads {
  const [items, setItems] = useState<UploadItem[]>([]);
  const callback = useRef(onUploaded);
  const controller = useRef(new AbortController());

  useEffect(() => {
    callback.current = onUploaded;
  }, [onUploaded]);

  useEffect(() => {
    const current = new AbortController();
    controller.current = current;
    return () => current.abort();
  }, []);

  const start = useCallback(async (files: File[]) => {
    const added = files.map((file) => {
      uploadCounter += 1;
      return { key: `upload-${uploadCounter}`, file, status: "waiting" as UploadStatus };
    });
    setItems((current) => [...added, ...current]);

    const update = (key: string, change: Partial<UploadItem>) =>
      setItems((current) =>
        current.map((item) => (item.key === key ? { ...item, ...change } : item)),
      );

    const signal = controller.current.signal;
    await runLimited(added, PARALLEL_UPLOADS, async (item) => {
      if (signal.aborted) {
        return;
      }
      update(item.key, { status: "uploading" });
      try {
        const asset = await uploadFile(item.file, signal);
        update(item.key, { status: "done", asset });
        callback.current(asset);
      } catch (error) {
        if (!signal.aborted) {
          update(item.key, { status: "failed", error });
        }
      }
    });
  }, []);

  const clearFinished = useCallback(() => {
    setItems((current) =>
      current.filter((item) => item.status === "waiting" || item.status === "uploading"),
    );
  }, []);

  const busy = items.some((item) => item.status === "waiting" || item.status === "uploading");
  return { items, busy, start, clearFinished };
}

const statusBadges: Record<UploadStatus, { color: string; label: string }> = {
  waiting: { color: "gray", label: "Waiting" },
  uploading: { color: "blue", label: "Uploading" },
  done: { color: "green", label: "Uploaded" },
  failed: { color: "red", label: "Failed" },
};

function UploadRow({ item }: { item: UploadItem }) {
  const badge = statusBadges[item.status];
  const failure = item.status === "failed" ? uploadErrorLines(item.error) : null;
  return (
    <Paper withBorder p="sm" radius="md" data-testid="asset-upload-row" data-status={item.status}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" gap="sm">
          <Text size="sm" fw={500} truncate="end" title={item.file.name}>
            {item.file.name}
          </Text>
          <Group gap="xs" wrap="nowrap">
            <Text size="xs" c="dimmed">
              {formatBytes(item.file.size)}
            </Text>
            <Badge color={badge.color} variant="light">
              {badge.label}
            </Badge>
          </Group>
        </Group>
        {item.status === "uploading" ? (
          <Progress
            value={100}
            animated
            striped
            size="sm"
            aria-label={`Uploading ${item.file.name}`}
          />
        ) : null}
        {failure ? (
          <Stack gap={2}>
            <Text size="sm" c="red">
              {failure.message}
            </Text>
            {failure.details.length > 0 ? (
              <Stack gap={0} component="ul" style={{ margin: 0, paddingLeft: "1.2em" }}>
                {failure.details.map((line, index) => (
                  <Text size="xs" c="red" component="li" key={index}>
                    {line}
                  </Text>
                ))}
              </Stack>
            ) : null}
          </Stack>
        ) : null}
      </Stack>
    </Paper>
  );
}

// The files of this visit's uploads, newest first, each with its state.
export function AssetUploadList({ uploads }: { uploads: AssetUploads }) {
  const { items, busy, clearFinished } = uploads;
  if (items.length === 0) {
    return null;
  }
  const done = items.filter((item) => item.status === "done").length;
  const failed = items.filter((item) => item.status === "failed").length;
  return (
    <Stack gap="xs" aria-live="polite" data-testid="asset-upload-list">
      <Group justify="space-between" gap="sm">
        <Text size="sm" fw={600}>
          {busy
            ? `Uploading: ${done + failed} of ${items.length} files finished`
            : `${done} uploaded, ${failed} failed`}
        </Text>
        {!busy ? (
          <Button variant="subtle" size="xs" onClick={clearFinished}>
            Clear list
          </Button>
        ) : null}
      </Group>
      {items.map((item) => (
        <UploadRow key={item.key} item={item} />
      ))}
    </Stack>
  );
}
