// useBatchLive: a batch's jobs kept current by one EventSource on
// /api/v1/events. Events are applied in groups every 100 ms, and the batch is
// fetched again after completions (at most once a second) for the video URLs.
import { useCallback, useEffect, useMemo, useRef, useState } from "react";

import { getBatch, isFinal, jobStates, paths } from "../api/campaigns";
import type { Batch, BatchCounts, BatchJob, JobEvent, JobState } from "../api/campaigns";
import { arrivedBody, takePrefetched } from "./resource";

export interface JobView extends BatchJob {
  framesDone?: number;
  framesTotal?: number;
  // Milliseconds of the newest change applied: the job's updated_at_ms or an
  // event's at_ms. An older event or snapshot never overwrites a newer one.
  at: number;
}

export type Connection = "connecting" | "live" | "reconnecting" | "closed";

export interface BatchLive {
  batch: Batch | null; // the last snapshot, without its jobs
  jobs: Map<number, JobView>; // by row number
  rows: number[]; // row numbers in order
  counts: BatchCounts;
  connection: Connection;
  error: unknown;
  refresh: () => void;
  reconnect: () => void; // opens the stream again after the server closed it
}

const flushDelayMs = 100;
const refetchIntervalMs = 1000;

function sameJob(a: JobView, b: BatchJob): boolean {
  return (
    a.id === b.id &&
    a.state === b.state &&
    a.attempts === b.attempts &&
    a.error === b.error &&
    a.video_url === b.video_url &&
    a.poster_url === b.poster_url
  );
}

// Merges a fetched snapshot into the jobs on screen. Objects that did not
// change stay the same, so that their memoised cards do not render again.
function mergeSnapshot(current: Map<number, JobView>, jobs: BatchJob[]): Map<number, JobView> {
  const next = new Map<number, JobView>();
  for (const job of jobs) {
    const previous = current.get(job.row);
    const at = job.updated_at_ms ?? 0;
    if (previous && previous.at > at) {
      // An event newer than the snapshot: keep it, but take the URLs.
      const urls =
        job.video_url !== previous.video_url || job.poster_url !== previous.poster_url;
      next.set(
        job.row,
        urls && previous.state === "completed"
          ? { ...previous, video_url: job.video_url, poster_url: job.poster_url }
          : previous,
      );
    } else if (previous && sameJob(previous, job)) {
      next.set(job.row, previous);
    } else {
      const keepProgress = previous && job.state === "active" && previous.state === "active";
      next.set(job.row, {
        ...job,
        at,
        framesDone: keepProgress ? previous.framesDone : undefined,
        framesTotal: keepProgress ? previous.framesTotal : undefined,
      });
    }
  }
  return next;
}

// Applies EVENT to JOBS in place; returns whether a job just completed.
function applyEvent(jobs: Map<number, JobView>, event: JobEvent): boolean {
  const previous = jobs.get(event.row);
  if (previous && previous.at > event.at_ms) {
    return false;
  }
  if (event.type === "state" && event.to) {
    const base: JobView = previous ?? {
      id: event.job_id,
      row: event.row,
      state: event.to,
      attempts: 0,
      error: "",
      at: event.at_ms,
    };
    jobs.set(event.row, {
      ...base,
      state: event.to,
      attempts: event.attempt ?? base.attempts,
      error: event.error ?? "",
      at: event.at_ms,
      framesDone: event.to === "active" ? 0 : undefined,
      framesTotal: event.to === "active" ? base.framesTotal : undefined,
    });
    return event.to === "completed";
  }
  if (event.type === "progress" && previous && !isFinal(previous.state)) {
    jobs.set(event.row, {
      ...previous,
      state: "active",
      framesDone: event.frames_done,
      framesTotal: event.frames_total,
      at: event.at_ms,
    });
  }
  return false;
}

function countJobs(jobs: Map<number, JobView>): BatchCounts {
  const counts = Object.fromEntries(jobStates.map((state) => [state, 0])) as BatchCounts;
  counts.total = jobs.size;
  for (const job of jobs.values()) {
    counts[job.state as JobState] += 1;
  }
  return counts;
}

// The batch, its jobs and their rows from a snapshot.
function fromSnapshot(snapshot: Batch, current: Map<number, JobView>) {
  const list = snapshot.jobs ?? [];
  return {
    batch: { ...snapshot, jobs: undefined },
    jobs: mergeSnapshot(current, list),
    rows: list.map((job) => job.row).sort((a, b) => a - b),
  };
}

export function useBatchLive(batchId: string): BatchLive {
  // A snapshot requested with the page and already arrived fills the first
  // render, so that the grid appears with the page instead of one render later.
  const [opening] = useState(() => {
    const arrived = arrivedBody<Batch>(paths.batch(batchId));
    return arrived ? fromSnapshot(arrived.value, new Map()) : null;
  });
  const [batch, setBatch] = useState<Batch | null>(opening?.batch ?? null);
  const [jobs, setJobs] = useState<Map<number, JobView>>(() => opening?.jobs ?? new Map());
  const [rows, setRows] = useState<number[]>(opening?.rows ?? []);
  const [connection, setConnection] = useState<Connection>("connecting");
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  const refreshRef = useRef<() => void>(() => undefined);
  const shownJobs = useRef(jobs);
  const shownBatch = useRef(opening ? batchId : "");

  useEffect(() => {
    // A reconnect to the same batch keeps the grid on screen.
    const sameBatch = shownBatch.current === batchId;
    shownBatch.current = batchId;
    let current = sameBatch ? shownJobs.current : new Map<number, JobView>();
    let pending: JobEvent[] = [];
    let loaded = false;
    let closed = false;
    let flushTimer: number | undefined;
    let refetchTimer: number | undefined;
    let lastFetch = 0;
    let fetching: AbortController | null = null;
    let fetchAgain = false;
    let fetchAgainNow = false;

    if (!sameBatch) {
      shownJobs.current = current;
      setJobs(current);
      setRows([]);
      setBatch(null);
    }
    setError(null);
    setConnection("connecting");

    const commit = (next: Map<number, JobView>) => {
      current = next;
      shownJobs.current = next;
      setJobs(next);
    };

    const fetchNow = async () => {
      if (fetching) {
        fetchAgain = true;
        return;
      }
      const controller = new AbortController();
      fetching = controller;
      const first = lastFetch === 0;
      lastFetch = Date.now();
      try {
        // The first snapshot may have been requested with the page.
        const prefetched = first ? takePrefetched<Batch>(paths.batch(batchId)) : undefined;
        const snapshot = await (prefetched ?? getBatch(batchId, controller.signal));
        const next = fromSnapshot(snapshot, current);
        const merged = next.jobs;
        // Events that arrived before the first snapshot go on top of it.
        for (const event of pending) {
          applyEvent(merged, event);
        }
        pending = [];
        loaded = true;
        commit(merged);
        setRows((before) => {
          const after = next.rows;
          const same = before.length === after.length && before.every((row, i) => row === after[i]);
          return same ? before : after;
        });
        setBatch(next.batch);
        setError(null);
        // The store may lag the completion event by a moment: ask again
        // until every completed video has its URL.
        if ((snapshot.jobs ?? []).some((job) => job.state === "completed" && !job.video_url)) {
          fetchAgain = true;
        }
      } catch (caught) {
        if (!controller.signal.aborted) {
          setError(caught);
        }
      } finally {
        fetching = null;
      }
      if (fetchAgainNow && !closed) {
        fetchAgainNow = false;
        fetchAgain = false;
        void fetchNow();
      } else if (fetchAgain && !closed) {
        fetchAgain = false;
        scheduleRefetch();
      }
    };

    // Fetches the batch now, or right after the fetch in flight.
    const refetchNow = () => {
      if (fetching) {
        fetchAgainNow = true;
      } else {
        void fetchNow();
      }
    };

    // Fetches the batch at most once per refetchIntervalMs.
    const scheduleRefetch = () => {
      if (refetchTimer !== undefined || closed) {
        return;
      }
      const wait = Math.max(0, lastFetch + refetchIntervalMs - Date.now());
      refetchTimer = window.setTimeout(() => {
        refetchTimer = undefined;
        void fetchNow();
      }, wait);
    };

    const flush = () => {
      flushTimer = undefined;
      if (!loaded || pending.length === 0) {
        return;
      }
      const next = new Map(current);
      let completed = false;
      let unknownRow = false;
      for (const event of pending) {
        unknownRow ||= !next.has(event.row);
        completed = applyEvent(next, event) || completed;
      }
      pending = [];
      commit(next);
      if (completed || unknownRow) {
        scheduleRefetch();
      }
    };

    // The stream starts at the newest event when it opens. The first
    // snapshot is requested right away rather than after the open, which
    // takes a round trip or more, so a change can fall between the snapshot
    // and the open: a second snapshot once the stream is open covers it.
    void fetchNow();
    refreshRef.current = () => void fetchNow();

    const source = new EventSource(paths.events(batchId));
    const receive = (message: MessageEvent<string>) => {
      try {
        pending.push(JSON.parse(message.data) as JobEvent);
      } catch {
        return;
      }
      if (loaded && flushTimer === undefined) {
        flushTimer = window.setTimeout(flush, flushDelayMs);
      }
    };
    source.addEventListener("state", receive);
    source.addEventListener("progress", receive);
    let opened = false;
    source.onopen = () => {
      setConnection("live");
      if (!opened) {
        opened = true;
        refetchNow();
      } else {
        // A reconnect resumes after Last-Event-ID; the refetch covers a
        // server that lost its event log meanwhile.
        scheduleRefetch();
      }
    };
    source.onerror = () => {
      setConnection(source.readyState === EventSource.CLOSED ? "closed" : "reconnecting");
    };

    return () => {
      closed = true;
      source.close();
      window.clearTimeout(flushTimer);
      window.clearTimeout(refetchTimer);
      fetching?.abort();
      refreshRef.current = () => undefined;
    };
  }, [batchId, attempt]);

  const counts = useMemo(() => countJobs(jobs), [jobs]);
  const refresh = useCallback(() => refreshRef.current(), []);
  const reconnect = useCallback(() => setAttempt((value) => value + 1), []);

  return { batch, jobs, rows, counts, connection, error, refresh, reconnect };
}
