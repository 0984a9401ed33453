// One row's video in the batch grid: its state, render progress, poster and
// download link. Memoised, so that an event re-renders only its own card.
import {
  Anchor,
  AspectRatio,
  Badge,
  Box,
  Card,
  Center,
  Group,
  Loader,
  Progress,
  Stack,
  Text,
  UnstyledButton,
} from "@mantine/core";
import { memo } from "react";

import type { JobView } from "./BatchLive";
import { stateColors, stateLabels } from "./BatchStatus";

function percent(job: JobView): number | null {
  if (job.state !== "active" || !job.framesTotal) {
    return null;
  }
  return Math.min(100, Math.round((100 * (job.framesDone ?? 0)) / job.framesTotal));
}

function Poster({
  job,
  ratio,
  onPlay,
}: {
  job: JobView;
  ratio: number;
  onPlay: (row: number) => void;
}) {
  const ready = job.state === "completed" && job.video_url;
  if (ready && job.poster_url) {
    return (
      <AspectRatio ratio={ratio}>
        <UnstyledButton
          onClick={() => onPlay(job.row)}
          aria-label={`Play the video of row ${job.row}`}
          style={{ position: "relative", background: "var(--mantine-color-dark-7)" }}
        >
          <img
            src={job.poster_url}
            alt=""
            loading="lazy"
            decoding="async"
            style={{ width: "100%", height: "100%", objectFit: "contain", display: "block" }}
          />
          <Center
            pos="absolute"
            inset={0}
            style={{ pointerEvents: "none" }}
            aria-hidden
          >
            <Box
              style={{
                width: 40,
                height: 40,
                borderRadius: "50%",
                background: "rgba(0, 0, 0, 0.55)",
                color: "white",
                display: "grid",
                placeItems: "center",
                fontSize: 16,
              }}
            >
              ▶
            </Box>
          </Center>
        </UnstyledButton>
      </AspectRatio>
    );
  }
  const value = percent(job);
  return (
    <AspectRatio ratio={ratio}>
      <Center bg="gray.1" c="dimmed">
        {job.state === "active" || job.state === "retrying" ? (
          <Stack align="center" gap={4}>
            <Loader size="sm" type="dots" />
            {value !== null ? <Text size="xs">{value}%</Text> : null}
          </Stack>
        ) : (
          <Text size="xs" ta="center" px="xs">
            {job.state === "queued"
              ? "Waiting for a worker"
              : job.state === "completed"
                ? "Loading the video…"
                : stateLabels[job.state]}
          </Text>
        )}
      </Center>
    </AspectRatio>
  );
}

// The browser lays out and paints a card only near the viewport: the grid
// of a large batch sits below the campaign's steps. The intrinsic size is an
// estimate of a 9:16 card until the card has been on screen once.
const cardStyle = { contentVisibility: "auto", containIntrinsicSize: "auto 360px" } as const;

export const BatchCard = memo(function BatchCard({
  job,
  ratio,
  onPlay,
}: {
  job: JobView;
  ratio: number;
  onPlay: (row: number) => void;
}) {
  const value = percent(job);
  return (
    <Card
      withBorder
      padding="xs"
      radius="md"
      data-testid={`batch-video-${job.row}`}
      data-state={job.state}
      aria-label={`Row ${job.row}: ${stateLabels[job.state]}`}
      role="group"
      style={cardStyle}
    >
      <Card.Section>
        <Poster job={job} ratio={ratio} onPlay={onPlay} />
      </Card.Section>
      <Stack gap={6} mt="xs">
        <Group justify="space-between" gap={4} wrap="nowrap">
          <Text size="sm" fw={600}>
            Row {job.row}
          </Text>
          <Badge size="xs" variant="light" color={stateColors[job.state]}>
            {stateLabels[job.state]}
          </Badge>
        </Group>
        {job.state === "active" ? (
          <Progress
            value={value ?? 0}
            size="sm"
            animated={value === null}
            aria-label={`Rendering row ${job.row}`}
          />
        ) : null}
        {job.error && (job.state === "failed" || job.state === "retrying") ? (
          <Text
            size="xs"
            c={job.state === "failed" ? "red" : "orange"}
            lineClamp={2}
            title={job.error}
          >
            {job.error}
          </Text>
        ) : null}
        {job.state === "completed" && job.video_url ? (
          <Anchor
            href={job.video_url}
            download
            size="xs"
            data-testid={`batch-download-${job.row}`}
            aria-label={`Download the video of row ${job.row}`}
          >
            Download
          </Anchor>
        ) : null}
      </Stack>
    </Card>
  );
});
