// Batch and job states at a glance: the state of a whole batch as a badge,
// the colour and label of each job state, and counted nouns.
import { Badge } from "@mantine/core";

import type { Batch, BatchCounts, JobState } from "../api/campaigns";
import { formatCount } from "./format";

export const stateColors: Record<JobState, string> = {
  queued: "gray",
  active: "blue",
  retrying: "orange",
  completed: "teal",
  failed: "red",
  cancelled: "dark",
};

export const stateLabels: Record<JobState, string> = {
  queued: "Queued",
  active: "Rendering",
  retrying: "Retrying",
  completed: "Completed",
  failed: "Failed",
  cancelled: "Cancelled",
};

// "1 video", "50 videos".
export function plural(count: number, noun: string): string {
  return `${formatCount(count)} ${noun}${count === 1 ? "" : "s"}`;
}

// Jobs that will not change again unless someone retries the batch.
export function finishedCount(counts: BatchCounts): number {
  return (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.cancelled ?? 0);
}

export function batchSummary(batch: Pick<Batch, "counts" | "cancelled">): {
  label: string;
  color: string;
} {
  const counts = batch.counts;
  const total = counts.total ?? 0;
  const finished = finishedCount(counts);
  if (total === 0) {
    return { label: "No videos", color: "gray" };
  }
  if (finished < total) {
    if (batch.cancelled) {
      return { label: "Cancelling", color: "dark" };
    }
    const running = (counts.active ?? 0) + (counts.retrying ?? 0);
    return running > 0
      ? { label: `Rendering ${formatCount(finished)}/${formatCount(total)}`, color: "blue" }
      : { label: `Queued ${formatCount(finished)}/${formatCount(total)}`, color: "gray" };
  }
  if ((counts.failed ?? 0) > 0) {
    return { label: `${formatCount(counts.failed)} failed`, color: "red" };
  }
  if ((counts.completed ?? 0) === total) {
    return { label: `${plural(total, "video")} made`, color: "teal" };
  }
  return { label: "Cancelled", color: "dark" };
}

export function BatchStateBadge({ batch }: { batch: Pick<Batch, "counts" | "cancelled"> }) {
  const { label, color } = batchSummary(batch);
  return (
    <Badge color={color} variant="light" style={{ textTransform: "none" }}>
      {label}
    </Badge>
  );
}
