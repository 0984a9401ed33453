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

interface Prefetched {
  response: Promise<unknown>;
  startedAt: number;
  // The body, once the response has arrived.
  body?: { value: unknown };
}

const prefetched = new Map<string, Prefetched>();

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
  const entry: Prefetched = { response: api<unknown>(path), startedAt: now };
  // The component that takes the response reports its error.
  entry.response.then(
    (value) => (entry.body = { value }),
    () => undefined,
  );
  prefetched.set(path, entry);
}

// Starts GET of each of PATHS and resolves once every response has arrived
// or failed, or after WAIT_MS, whichever comes first.
export function prefetchAll(paths: string[], waitMs: number): Promise<void> {
  paths.forEach(prefetch);
  const responses = paths.map((path) => prefetched.get(path)?.response.catch(() => undefined));
  return Promise.race([
    Promise.all(responses).then(() => undefined),
    new Promise<void>((done) => setTimeout(done, waitMs)),
  ]);
}

// Forgets the prefetched response of PATH when no useResource took it, such as
// the rows of a campaign that had none: a later mount must ask again, because
// the data may have changed since.
export function dropPrefetched(path: string): void {
  prefetched.delete(path);
}

// The body of PATH's prefetched response if it has arrived, left in place.
export function arrivedBody<T>(path: string | null): { value: T } | undefined {
  if (path === null) {
    return undefined;
  }
  const entry = prefetched.get(path);
  if (!entry?.body || Date.now() - entry.startedAt > prefetchLifetimeMs) {
    return undefined;
  }
  return entry.body as { value: T };
}

// Takes the prefetched response of PATH, if any, for a caller that fetches
// without useResource.
export function takePrefetched<T>(path: string): Promise<T> | undefined {
  dropExpired(Date.now());
  const entry = prefetched.get(path);
  prefetched.delete(path);
  return entry?.response as Promise<T> | undefined;
}

interface State<T> {
  path: string | null;
  data: T | undefined;
  error: unknown;
  loading: boolean;
  // Whether DATA is a prefetched body that the mount takes instead of asking.
  prefetched: boolean;
}

function initialState<T>(path: string | null): State<T> {
  const body = arrivedBody<T>(path);
  return {
    path,
    data: body?.value,
    error: null,
    loading: path !== null && body === undefined,
    prefetched: body !== undefined,
  };
}

// Fetches PATH (null: nothing yet) and fetches it again when PATH changes.
// The first fetch takes a prefetched response when there is one. When that
// response has already arrived, the first render shows its data, so a page
// whose requests started early renders complete in one pass. A reload
// always requests from the server and keeps the last data on screen until
// the new response arrives.
export function useResource<T>(path: string | null): Resource<T> {
  let [state, setState] = useState<State<T>>(() => initialState<T>(path));
  if (state.path !== path) {
    // A new path starts again from nothing, or from its arrived prefetch,
    // in this render rather than one render later.
    state = initialState<T>(path);
    setState(state);
  }
  const current = useRef<AbortController | null>(null);

  const setData = useCallback(
    (data: T) => setState((previous) => ({ ...previous, data, prefetched: false })),
    [],
  );

  const load = useCallback(
    async (allowPrefetched: boolean) => {
      current.current?.abort();
      if (path === null) {
        return;
      }
      const controller = new AbortController();
      current.current = controller;
      setState((previous) => ({ ...previous, loading: true }));
      try {
        const response =
          (allowPrefetched ? takePrefetched<T>(path) : undefined) ??
          api<T>(path, { signal: controller.signal });
        const data = await response;
        if (!controller.signal.aborted) {
          setState({ path, data, error: null, loading: false, prefetched: false });
        }
      } catch (caught) {
        if (!controller.signal.aborted) {
          setState((previous) => ({ ...previous, error: caught, loading: false }));
        }
      }
    },
    [path],
  );

  const reload = useCallback(() => load(false), [load]);

  const shownPrefetched = state.prefetched;
  useEffect(() => {
    if (path !== null && shownPrefetched) {
      dropPrefetched(path);
      return;
    }
    void load(true);
    return () => current.current?.abort();
  }, [load]);

  return { data: state.data, error: state.error, loading: state.loading, reload, setData };
}
