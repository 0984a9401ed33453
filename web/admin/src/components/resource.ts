// useResource: one GET with its loading state, error and reload, for pages
// that show what the API has.
import { useCallback, useEffect, useRef, useState } from "react";

import { api } from "../api/client";

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (data: T) => void;
}

// Fetches PATH (null: nothing yet) and fetches it again when PATH changes.
// A reload keeps the last data on screen until the new answer arrives.
export function useResource<T>(path: string | null): Resource<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(path !== null);
  const current = useRef<AbortController | null>(null);

  const reload = useCallback(async () => {
    current.current?.abort();
    if (path === null) {
      return;
    }
    const controller = new AbortController();
    current.current = controller;
    setLoading(true);
    try {
      const body = await api<T>(path, { signal: controller.signal });
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
  }, [path]);

  useEffect(() => {
    setData(undefined);
    void reload();
    return () => current.current?.abort();
  }, [reload]);

  return { data, error, loading, reload, setData };
}
