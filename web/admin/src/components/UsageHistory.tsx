// The tenant's credit ledger, newest first, in pages: top-ups, holds for
// batches, charges and releases, with the balance after each. The table is
// plain elements: its 175 cells as Mantine components took most of the
// usage page's render.
import { Button, Group, Stack, Text, Title } from "@mantine/core";
import { useEffect, useRef, useState } from "react";

import { historyPath, maxHistoryLimit } from "../api/account";
import type { LedgerEntry, LedgerKind } from "../api/account";
import classes from "./DataTable.module.css";
import { formatCount, formatTime } from "./format";
import { useResource } from "./resource";
import { EmptyState, ErrorAlert, Loading } from "./states";

const pageSize = 25;

const kinds: Record<LedgerKind, { label: string; color: string; meaning: string }> = {
  topup: { label: "Top-up", color: "teal", meaning: "added to the available credits" },
  reserve: { label: "Hold", color: "blue", meaning: "held for a batch until its videos end" },
  charge: { label: "Charge", color: "indigo", meaning: "spent from a hold on finished videos" },
  release: { label: "Release", color: "gray", meaning: "returned from a hold to available" },
  adjustment: { label: "Adjustment", color: "orange", meaning: "changed by hand" },
};

// The actor as people read it: "user:ID" and "key:ID" keep their kind.
function describeActor(actor: string): string {
  if (actor.startsWith("user:")) {
    return `user ${actor.slice(5)}`;
  }
  if (actor.startsWith("key:")) {
    return `API key ${actor.slice(4)}`;
  }
  return actor || "—";
}

// The request of the history's first page.
export function firstHistoryPath(): string {
  return historyPath(pageLimit(0));
}

// One more entry than the page needs shows whether a next page exists.
function pageLimit(page: number): number {
  return Math.min((page + 1) * pageSize + 1, maxHistoryLimit);
}

export function UsageHistory({ refreshKey }: { refreshKey: number }) {
  const [page, setPage] = useState(0);
  const limit = pageLimit(page);
  const history = useResource<{ entries: LedgerEntry[] }>(historyPath(limit));
  const { reload } = history;
  const handledKey = useRef(refreshKey);
  useEffect(() => {
    if (refreshKey !== handledKey.current) {
      handledKey.current = refreshKey;
      void reload();
    }
  }, [refreshKey, reload]);
  // The previous page stays on screen while the next one loads.
  const lastEntries = useRef<LedgerEntry[] | undefined>(undefined);
  if (history.data) {
    lastEntries.current = history.data.entries;
  }
  const entries = lastEntries.current;

  let body;
  if (entries === undefined) {
    body = history.error ? (
      <ErrorAlert
        error={history.error}
        title="Could not load the credit history"
        onRetry={() => void history.reload()}
      />
    ) : (
      <Loading label="Loading the credit history" />
    );
  } else if (entries.length === 0) {
    body = (
      <EmptyState title="No credit changes yet">
        A platform administrator adds credits to your agency. Each batch then holds credits, and
        each finished video is charged from that hold.
      </EmptyState>
    );
  } else if (entries.length <= page * pageSize && history.loading) {
    body = <Loading label="Loading older entries" />;
  } else {
    const first = page * pageSize;
    const rows = entries.slice(first, first + pageSize);
    const hasNext = entries.length > first + pageSize && first + pageSize < maxHistoryLimit;
    const atCap = entries.length >= maxHistoryLimit && !hasNext;
    body = (
      <Stack gap="sm">
        {history.error ? (
          <ErrorAlert error={history.error} title="Could not load more of the credit history" />
        ) : null}
        <div className={classes.scroll}>
          <table
            className={`${classes.table} ${classes.striped}`}
            style={{ minWidth: 760 }}
            aria-label="Credit history"
          >
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Kind</th>
                <th scope="col" className={classes.number}>
                  Amount
                </th>
                <th scope="col" className={classes.number}>
                  Available after
                </th>
                <th scope="col" className={classes.number}>
                  Held after
                </th>
                <th scope="col">Batch</th>
                <th scope="col">By</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((entry) => {
                const kind = kinds[entry.kind] ?? {
                  label: entry.kind,
                  color: "gray",
                  meaning: entry.kind,
                };
                return (
                  <tr key={entry.id} data-testid="usage-history-row">
                    <td className={classes.nowrap}>{formatTime(entry.created_at_ms)}</td>
                    <td className={classes.nowrap}>
                      <span
                        className={classes.badge}
                        data-size="md"
                        data-color={kind.color}
                        title={kind.meaning}
                      >
                        {kind.label}
                      </span>
                    </td>
                    <td className={classes.number}>{formatCount(entry.amount)}</td>
                    <td className={classes.number}>{formatCount(entry.available_after)}</td>
                    <td className={classes.number}>{formatCount(entry.held_after)}</td>
                    <td>
                      {entry.job_id ? (
                        <code>{entry.job_id}</code>
                      ) : (
                        <span className={classes.dimmed}>—</span>
                      )}
                    </td>
                    <td>{describeActor(entry.actor)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <Group justify="space-between" wrap="wrap" gap="sm">
          <Text size="sm" c="dimmed" aria-live="polite">
            Entries {formatCount(first + 1)} to {formatCount(first + rows.length)}
            {atCap ? `; the server returns at most the newest ${formatCount(maxHistoryLimit)}` : ""}
          </Text>
          <Group gap="xs">
            <Button
              variant="default"
              size="xs"
              disabled={page === 0}
              onClick={() => setPage(page - 1)}
            >
              Newer
            </Button>
            <Button
              variant="default"
              size="xs"
              disabled={!hasNext}
              loading={history.loading}
              onClick={() => setPage(page + 1)}
            >
              Older
            </Button>
          </Group>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack gap="sm" data-testid="usage-history" component="section" aria-labelledby="usage-history">
      <Title order={2} size="h4" id="usage-history">
        Credit history
      </Title>
      <Text size="sm" c="dimmed">
        A batch holds credits when it starts; each finished video is charged from the hold, and
        the rest is released when the batch ends.
      </Text>
      {body}
    </Stack>
  );
}
