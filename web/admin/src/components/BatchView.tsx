// A campaign's batches: pick one (the newest by default) and watch its videos
// render live, play and download them, retry the failed ones or cancel.
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Progress,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { memo, startTransition, useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { CSSProperties } from "react";

import { ApiError, describeError } from "../api/client";
import { cancelBatch, jobStates, paths, retryBatch } from "../api/campaigns";
import type { Batch, BatchCounts } from "../api/campaigns";
import { BatchCard } from "./BatchCard";
import { useBatchLive } from "./BatchLive";
import type { Connection, JobView } from "./BatchLive";
import { BatchStateBadge, finishedCount, plural, stateColors, stateLabels } from "./BatchStatus";
import { Dialog } from "./Dialog";
import { formatCount, formatTime } from "./format";
import { afterNextFrame } from "./frames";
import { useResource } from "./resource";
import { ErrorAlert, Loading } from "./states";

// Batches offered in the picker, newest first.
export const batchListLimit = 100;

// Failed rows listed under the summary before "Show all".
const shownFailures = 20;

export function BatchView({
  campaignId,
  selected,
  onSelect,
  listRevision,
  canEdit,
  ratio,
  onEnded,
}: {
  campaignId: string;
  selected: string | null;
  onSelect: (batchId: string) => void;
  listRevision: number;
  canEdit: boolean;
  ratio: number;
  // Called when the batch on screen has ended, after it was seen unfinished.
  onEnded?: () => void;
}) {
  const list = useResource<{ batches: Batch[] }>(paths.batches({ campaignId, limit: batchListLimit }));
  const reloadList = list.reload;
  useEffect(() => {
    if (listRevision > 0) {
      void reloadList();
    }
  }, [listRevision, reloadList]);

  const batches = list.data?.batches ?? [];
  const current = selected ?? batches[0]?.id ?? null;

  if (list.error && !list.data) {
    return (
      <ErrorAlert error={list.error} title="Could not load the batches" onRetry={list.reload} />
    );
  }
  if (!list.data && !selected) {
    return <Loading label="Loading batches" />;
  }
  if (current === null) {
    return (
      <Text size="sm" c="dimmed">
        No videos yet. Generate all makes the first batch, and its videos appear here as they
        render.
      </Text>
    );
  }

  const options = batches.map((batch, index) => ({
    value: batch.id,
    label: `${index === 0 ? "Newest: " : ""}${formatTime(batch.created_at_ms ?? 0)}, ${plural(
      batch.job_count,
      "video",
    )}`,
  }));
  if (!options.some((option) => option.value === current)) {
    options.unshift({ value: current, label: `Batch ${current}` });
  }

  return (
    <Stack gap="md">
      {options.length > 1 ? (
        <Select
          label="Batch"
          description="Each Generate all makes one batch."
          data={options}
          value={current}
          onChange={(value) => value && onSelect(value)}
          allowDeselect={false}
          maw={420}
          data-testid="batch-select"
        />
      ) : null}
      <BatchPanel
        key={current}
        batchId={current}
        canEdit={canEdit}
        ratio={ratio}
        onEnded={onEnded}
      />
    </Stack>
  );
}

function ConnectionBadge({
  connection,
  onReconnect,
}: {
  connection: Connection;
  onReconnect: () => void;
}) {
  if (connection === "live") {
    return (
      <Badge color="teal" variant="dot" data-testid="batch-live">
        Live
      </Badge>
    );
  }
  if (connection === "closed") {
    return (
      <Group gap="xs">
        <Badge color="red" variant="dot">
          Live updates stopped
        </Badge>
        <Button size="compact-xs" variant="light" onClick={onReconnect}>
          Reconnect
        </Button>
      </Group>
    );
  }
  return (
    <Badge color="gray" variant="dot">
      {connection === "connecting" ? "Connecting" : "Reconnecting"}
    </Badge>
  );
}

// The whole batch as one bar: finished videos in their state's colour, and
// the rendered share of the active ones.
function OverallProgress({ counts, jobs }: { counts: BatchCounts; jobs: Map<number, JobView> }) {
  const total = counts.total || 1;
  let activeFrames = 0;
  for (const job of jobs.values()) {
    if (job.state === "active" && job.framesTotal) {
      activeFrames += (job.framesDone ?? 0) / job.framesTotal;
    }
  }
  const finished = finishedCount(counts);
  const done = Math.round((100 * (finished + activeFrames)) / total);
  const section = (count: number) => (100 * count) / total;
  return (
    <Stack gap={4}>
      <Progress.Root size="lg" aria-label="Progress of the batch" data-testid="batch-progress">
        <Progress.Section value={section(counts.completed)} color={stateColors.completed} />
        <Progress.Section value={section(counts.failed)} color={stateColors.failed} />
        <Progress.Section value={section(counts.cancelled)} color={stateColors.cancelled} />
        <Progress.Section value={section(activeFrames)} color={stateColors.active} animated />
      </Progress.Root>
      <Text size="xs" c="dimmed">
        {done}% done: {formatCount(finished)} of {plural(counts.total, "video")} finished.
      </Text>
    </Stack>
  );
}

function Counts({ counts }: { counts: BatchCounts }) {
  return (
    <Group gap="xs" data-testid="batch-counts">
      {jobStates
        .filter((state) => counts[state] > 0)
        .map((state) => (
          <Badge
            key={state}
            color={stateColors[state]}
            variant="light"
            style={{ textTransform: "none" }}
            data-testid={`batch-count-${state}`}
          >
            {stateLabels[state]}: {formatCount(counts[state])}
          </Badge>
        ))}
    </Group>
  );
}

const noRows: number[] = [];

const BatchGrid = memo(function BatchGrid({
  rows,
  jobs,
  ratio,
  onPlay,
}: {
  rows: number[];
  jobs: Map<number, JobView>;
  ratio: number;
  onPlay: (row: number) => void;
}) {
  // The cards read the posters' aspect ratio from --batch-ratio.
  const style = useMemo(() => ({ "--batch-ratio": String(ratio) }) as CSSProperties, [ratio]);
  // The grid opens below the campaign's steps, so its cards render after the
  // frame that shows the page, in a render that a click or a key press
  // interrupts.
  const [drawn, setDrawn] = useState(false);
  useEffect(
    () => (drawn ? undefined : afterNextFrame(() => startTransition(() => setDrawn(true)))),
    [drawn],
  );
  const shownRows = drawn ? rows : noRows;
  return (
    <SimpleGrid
      cols={{ base: 2, xs: 3, sm: 4, md: 5, lg: 6 }}
      spacing="sm"
      data-testid="batch-grid"
      aria-label="Videos of the batch"
      aria-busy={shownRows !== rows}
      style={style}
    >
      {shownRows.map((row) => {
        const job = jobs.get(row);
        return job ? <BatchCard key={row} job={job} onPlay={onPlay} /> : null;
      })}
    </SimpleGrid>
  );
});

function retryMessage(error: unknown): string {
  if (error instanceof ApiError && error.code === "insufficient_credits") {
    const shortfall = typeof error.body.shortfall === "number" ? error.body.shortfall : 0;
    return (
      `${describeError(error)}. ${plural(shortfall, "credit")} missing: ask your platform ` +
      "administrator for a top-up."
    );
  }
  return describeError(error);
}

function BatchPanel({
  batchId,
  canEdit,
  ratio,
  onEnded,
}: {
  batchId: string;
  canEdit: boolean;
  ratio: number;
  onEnded?: () => void;
}) {
  const live = useBatchLive(batchId);
  const [playing, setPlaying] = useState<number | null>(null);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [busy, setBusy] = useState<"retry" | "cancel" | null>(null);
  const [showAllFailures, setShowAllFailures] = useState(false);
  const play = useCallback((row: number) => setPlaying(row), []);

  const { batch, counts, jobs, rows, refresh } = live;

  // A batch seen unfinished that ends has charged or released its credits.
  const ended = counts.total > 0 && finishedCount(counts) === counts.total;
  const sawUnfinished = useRef(false);
  useEffect(() => {
    if (counts.total > 0 && !ended) {
      sawUnfinished.current = true;
    } else if (ended && sawUnfinished.current) {
      sawUnfinished.current = false;
      onEnded?.();
    }
  }, [counts.total, ended, onEnded]);

  async function retry() {
    setBusy("retry");
    try {
      const result = await retryBatch(batchId);
      notifications.show({
        color: "teal",
        title: "Retrying",
        message: `${plural(result.retried, "failed video")} queued again; ${plural(
          result.credits_held,
          "credit",
        )} held.`,
      });
      refresh();
    } catch (caught) {
      notifications.show({ color: "red", title: "Could not retry", message: retryMessage(caught) });
    } finally {
      setBusy(null);
    }
  }

  async function cancel() {
    setBusy("cancel");
    try {
      const result = await cancelBatch(batchId);
      setConfirmCancel(false);
      notifications.show({
        color: "teal",
        title: "Cancelled",
        message:
          result.cancelled === 0
            ? "Nothing was left to cancel: every video had finished."
            : result.stopping > 0
            ? `${plural(result.cancelled, "video")} cancelled. ` +
              `${formatCount(result.stopping)} stop at their next frame.`
            : `${plural(result.cancelled, "video")} cancelled.`,
      });
      refresh();
    } catch (caught) {
      notifications.show({
        color: "red",
        title: "Could not cancel",
        message: describeError(caught),
      });
    } finally {
      setBusy(null);
    }
  }

  if (!batch) {
    return live.error ? (
      <ErrorAlert error={live.error} title="Could not load the batch" onRetry={refresh} />
    ) : (
      <Loading label="Loading the batch" />
    );
  }

  const finished = finishedCount(counts);
  const allFinal = counts.total > 0 && finished === counts.total;
  const unfinished = counts.total - finished;
  const failures = rows.map((row) => jobs.get(row)).filter((job) => job?.state === "failed");
  const playingJob = playing === null ? undefined : jobs.get(playing);
  // NOTE: the batch has no charged total of its own, so this assumes that
  // exactly the completed videos were charged, each at the batch's price.
  const charged = counts.completed * batch.video_price;

  return (
    <Stack gap="md" data-testid="batch-view">
      <Group justify="space-between" align="flex-start" gap="sm">
        <Stack gap={4}>
          <Group gap="xs">
            <Title order={3} size="h5">
              Batch of {formatTime(batch.created_at_ms ?? 0)}
            </Title>
            <BatchStateBadge batch={{ counts, cancelled: batch.cancelled }} />
            {batch.priority === "high" ? (
              <Badge variant="outline" size="sm">
                Priority lane
              </Badge>
            ) : null}
          </Group>
          <ConnectionBadge connection={live.connection} onReconnect={live.reconnect} />
        </Stack>
        <Group gap="xs">
          {counts.completed > 0 ? (
            <Button
              component="a"
              href={paths.zip(batchId)}
              download
              variant="light"
              data-testid="batch-download-all"
            >
              Download all ({formatCount(counts.completed)})
            </Button>
          ) : (
            <Button variant="light" disabled data-testid="batch-download-all">
              Download all
            </Button>
          )}
          {canEdit ? (
            <>
              <Button
                variant="light"
                color="orange"
                disabled={counts.failed === 0}
                loading={busy === "retry"}
                onClick={() => void retry()}
                data-testid="batch-retry"
              >
                Retry failed{counts.failed > 0 ? ` (${formatCount(counts.failed)})` : ""}
              </Button>
              <Button
                variant="light"
                color="red"
                disabled={unfinished === 0}
                onClick={() => setConfirmCancel(true)}
                data-testid="batch-cancel"
              >
                Cancel
              </Button>
            </>
          ) : null}
        </Group>
      </Group>

      {live.error ? (
        <Text size="sm" c="red">
          Could not refresh the batch: {describeError(live.error)}
        </Text>
      ) : null}

      <OverallProgress counts={counts} jobs={jobs} />
      <Counts counts={counts} />

      {allFinal ? (
        <Alert
          color={counts.failed > 0 ? "orange" : "teal"}
          variant="light"
          title="Batch finished"
          data-testid="batch-summary"
        >
          <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="xs">
            <Summary label="Made" value={counts.completed} testId="batch-made" />
            <Summary label="Failed" value={counts.failed} testId="batch-failed-count" />
            <Summary label="Cancelled" value={counts.cancelled} testId="batch-cancelled-count" />
            <Summary label="Credits charged" value={charged} testId="batch-credits-charged" />
          </SimpleGrid>
          <Text size="xs" c="dimmed" mt="xs">
            {plural(counts.completed, "video")} × {plural(batch.video_price, "credit")}; failed and
            cancelled videos cost nothing.
          </Text>
        </Alert>
      ) : null}

      {failures.length > 0 ? (
        <Paper withBorder p="sm" radius="md">
          <Stack gap="xs">
            <Text size="sm" fw={600}>
              Failed rows
            </Text>
            <Table.ScrollContainer minWidth={360}>
              <Table verticalSpacing={4} data-testid="batch-failures" aria-label="Failed rows">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Row</Table.Th>
                    <Table.Th scope="col">Error</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {(showAllFailures ? failures : failures.slice(0, shownFailures)).map((job) =>
                    job ? (
                      <Table.Tr key={job.row}>
                        <Table.Td>{job.row}</Table.Td>
                        <Table.Td>{job.error || "No message was recorded."}</Table.Td>
                      </Table.Tr>
                    ) : null,
                  )}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
            {failures.length > shownFailures && !showAllFailures ? (
              <Group>
                <Button size="xs" variant="subtle" onClick={() => setShowAllFailures(true)}>
                  Show all {formatCount(failures.length)} failed rows
                </Button>
              </Group>
            ) : null}
          </Stack>
        </Paper>
      ) : null}

      {rows.length > 0 ? (
        <BatchGrid rows={rows} jobs={jobs} ratio={ratio} onPlay={play} />
      ) : (
        <Text size="sm" c="dimmed">
          This batch has no videos.
        </Text>
      )}

      <Dialog
        opened={playingJob !== undefined}
        onClose={() => setPlaying(null)}
        title={playingJob ? `Row ${playingJob.row}` : ""}
        size="lg"
        centered
      >
        {playingJob?.video_url ? (
          <Stack gap="sm">
            <video
              controls
              autoPlay
              src={playingJob.video_url}
              poster={playingJob.poster_url}
              style={{ width: "100%", maxHeight: "70vh", background: "black" }}
              data-testid="batch-player"
            />
            <Group justify="flex-end">
              <Anchor href={playingJob.video_url} download size="sm">
                Download this video
              </Anchor>
            </Group>
          </Stack>
        ) : null}
      </Dialog>

      <Dialog
        opened={confirmCancel}
        onClose={() => (busy === "cancel" ? undefined : setConfirmCancel(false))}
        title="Cancel the unfinished videos?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            {plural(unfinished, "video")} that {unfinished === 1 ? "has" : "have"} not finished
            will stop; renders in progress stop at their next frame. Their credits come back, and
            completed videos stay.
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirmCancel(false)} data-autofocus>
              Keep rendering
            </Button>
            <Button
              color="red"
              loading={busy === "cancel"}
              onClick={() => void cancel()}
              data-testid="batch-cancel-confirm"
            >
              Cancel {plural(unfinished, "video")}
            </Button>
          </Group>
        </Stack>
      </Dialog>
    </Stack>
  );
}

function Summary({ label, value, testId }: { label: string; value: number; testId: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="lg" fw={700} data-testid={testId}>
        {formatCount(value)}
      </Text>
    </Stack>
  );
}
