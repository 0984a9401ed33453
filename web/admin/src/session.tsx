// The signed-in person for the whole app: read once from /api/v1/me, set by
// sign-in, cleared by sign-out or by any 401.
import { createContext, useCallback, useContext, useEffect, useMemo, useState } from "react";
import type { ReactNode } from "react";

import { api, setCsrfToken, setUnauthorizedHandler } from "./api/client";
import type { Me } from "./api/session";

interface SessionState {
  me: Me | null;
  loading: boolean;
  signIn: (email: string, password: string) => Promise<void>;
  signOut: () => Promise<void>;
}

const SessionContext = createContext<SessionState | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [me, setMe] = useState<Me | null>(null);
  const [loading, setLoading] = useState(true);

  const remember = useCallback((next: Me | null) => {
    setCsrfToken(next?.csrf_token ?? "");
    setMe(next);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => remember(null));
    api<Me>("/api/v1/me")
      .then(remember)
      .catch(() => remember(null))
      .finally(() => setLoading(false));
    return () => setUnauthorizedHandler(null);
  }, [remember]);

  const signIn = useCallback(
    async (email: string, password: string) => {
      await api("/api/v1/session", { json: { email, password } });
      remember(await api<Me>("/api/v1/me"));
    },
    [remember],
  );

  const signOut = useCallback(async () => {
    try {
      await api("/api/v1/session", { method: "DELETE" });
    } finally {
      remember(null);
    }
  }, [remember]);

  const value = useMemo(() => ({ me, loading, signIn, signOut }), [me, loading, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionState {
  const state = useContext(SessionContext);
  if (!state) {
    throw new Error("useSession outside SessionProvider");
  }
  return state;
}
