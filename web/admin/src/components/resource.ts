// useResource: one GET with its loading state, error and reload, for pages
// that show what the API has. prefetch starts such a GET before the component
// that shows it mounts, so that a page's requests run in parallel instead of
// one after another as its parts appear.
import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../api/client";

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (data: T) => void;
}

// A prefetched response is used by the first useResource of its path that mounts
// within this time, and dropped otherwise, so that no page shows a response
// that was requested before it was opened.
const prefetchLifetimeMs = 5000;

const prefetched = new Map<string, { response: Promise<unknown>; startedAt: number }>();

function dropExpired(now: number): void {
  for (const [path, entry] of prefetched) {
    if (now - entry.startedAt > prefetchLifetimeMs) {
      prefetched.delete(path);
    }
  }
}

// Starts GET PATH now for a useResource(PATH) that mounts shortly.
export function prefetch(path: string): void {
  const now = Date.now();
  dropExpired(now);
  if (prefetched.has(path)) {
    return;
  }
  const response = api<unknown>(path);
  // The component that takes the response reports its error.
  response.catch(() => undefined);
  prefetched.set(path, { response, startedAt: now });
}

// Forgets the prefetched response of PATH when no useResource took it, such as
// the rows of a campaign that had none: a later mount must ask again, because
// the data may have changed since.
export function dropPrefetched(path: string): void {
  prefetched.delete(path);
}

function takePrefetched<T>(path: string): Promise<T> | undefined {
  dropExpired(Date.now());
  const entry = prefetched.get(path);
  prefetched.delete(path);
  return entry?.response as Promise<T> | undefined;
}

// Fetches PATH (null: nothing yet) and fetches it again when PATH changes.
// The first fetch takes a prefetched response when there is one. A reload
// always asks the server, and keeps the last data on screen until the new
// response arrives.
export function useResource<T>(path: string | null): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const current = useRef<AbortController | null>(null);

  const load = useCallback(
    async (allowPrefetched: boolean) => {
      current.current?.abort();
      if (path === null) {
        return;
      }
      const controller = new AbortController();
      current.current = controller;
      setLoading(true);
      try {
        const response =
          (allowPrefetched ? takePrefetched<T>(path) : undefined) ??
          api<T>(path, { signal: controller.signal });
        const body = await response;
        if (!controller.signal.aborted) {
          setData(body);
          setError(null);
        }
      } catch (caught) {
        if (!controller.signal.aborted) {
          setError(caught);
        }
      } finally {
        if (!controller.signal.aborted) {
          setLoading(false);
        }
      }
    },
    [path],
  );

  const reload = useCallback(() => load(false), [load]);

  useEffect(() => {
    setData(undefined);
    void load(true);
    return () => current.current?.abort();
  }, [load]);

  return { data, error, loading, reload, setData };
}
