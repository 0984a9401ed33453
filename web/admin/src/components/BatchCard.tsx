// One row's video in the batch grid: its state, render progress, poster and
// download link. The card is plain elements styled by BatchCard.module.css,
// because 50 cards of Mantine components cost a long task per visit. It is
// memoised, so that an event re-renders only its own card.
import { Loader, Progress } from "@mantine/core";
import { memo } from "react";

import type { JobView } from "./BatchLive";
import { stateLabels } from "./BatchStatus";
import classes from "./BatchCard.module.css";

function percent(job: JobView): number | null {
  if (job.state !== "active" || !job.framesTotal) {
    return null;
  }
  return Math.min(100, Math.round((100 * (job.framesDone ?? 0)) / job.framesTotal));
}

function Poster({ job, onPlay }: { job: JobView; onPlay: (row: number) => void }) {
  const ready = job.state === "completed" && job.video_url;
  if (ready && job.poster_url) {
    return (
      <button
        type="button"
        className={`${classes.media} ${classes.play}`}
        onClick={() => onPlay(job.row)}
        aria-label={`Play the video of row ${job.row}`}
      >
        <img
          className={classes.poster}
          src={job.poster_url}
          alt=""
          loading="lazy"
          decoding="async"
        />
        <span className={classes.playIcon} aria-hidden>
          ▶
        </span>
      </button>
    );
  }
  const value = percent(job);
  return (
    <div className={`${classes.media} ${classes.placeholder}`}>
      {job.state === "active" || job.state === "retrying" ? (
        <>
          <Loader size="sm" type="dots" />
          {value !== null ? <span>{value}%</span> : null}
        </>
      ) : job.state === "queued" ? (
        "Waiting for a worker"
      ) : job.state === "completed" ? (
        "Loading the video…"
      ) : (
        stateLabels[job.state]
      )}
    </div>
  );
}

// The grid sets the poster's aspect ratio as --batch-ratio, so that the
// cards carry no inline styles.
export const BatchCard = memo(function BatchCard({
  job,
  onPlay,
}: {
  job: JobView;
  onPlay: (row: number) => void;
}) {
  const value = percent(job);
  return (
    <div
      className={classes.card}
      data-testid={`batch-video-${job.row}`}
      data-state={job.state}
      aria-label={`Row ${job.row}: ${stateLabels[job.state]}`}
      role="group"
    >
      <Poster job={job} onPlay={onPlay} />
      <div className={classes.body}>
        <div className={classes.header}>
          <p className={classes.title}>Row {job.row}</p>
          <span className={classes.badge}>{stateLabels[job.state]}</span>
        </div>
        {job.state === "active" ? (
          <Progress
            value={value ?? 0}
            size="sm"
            animated={value === null}
            aria-label={`Rendering row ${job.row}`}
          />
        ) : null}
        {job.error && (job.state === "failed" || job.state === "retrying") ? (
          <p className={classes.error} title={job.error}>
            {job.error}
          </p>
        ) : null}
        {job.state === "completed" && job.video_url ? (
          <a
            className={classes.link}
            href={job.video_url}
            download
            data-testid={`batch-download-${job.row}`}
            aria-label={`Download the video of row ${job.row}`}
          >
            Download
          </a>
        ) : null}
      </div>
    </div>
  );
});
