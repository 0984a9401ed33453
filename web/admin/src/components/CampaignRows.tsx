// Step 2 of a campaign: upload the rows as a CSV file, by file picker or by
// dropping it, and page through the stored rows in a table.
import { Button, Group, Pagination, Paper, Stack, Text } from "@mantine/core";
import { useRef, useState } from "react";
import type { DragEvent } from "react";

import { ApiError } from "../api/client";
import { paths, uploadRows } from "../api/campaigns";
import type { Campaign, RowsPage } from "../api/campaigns";
import { plural } from "./BatchStatus";
import classes from "./DataTable.module.css";
import { formatBytes } from "./format";
import { useResource } from "./resource";
import { ErrorAlert, Loading } from "./states";

export const rowsPageSize = 10;

// The table's first page, which the mapping step shows its examples from too,
// so that the campaign page requests the first rows once.
export function firstRowsPath(campaignId: string): string {
  return paths.rows(campaignId, 0, rowsPageSize);
}

// The server accepts up to 10 MiB of rows per upload.
const maxUploadBytes = 10 * 1024 * 1024;

export function CampaignRows({
  campaign,
  canEdit,
  onUploaded,
}: {
  campaign: Campaign;
  canEdit: boolean;
  onUploaded: (campaign: Campaign) => void;
}) {
  const input = useRef<HTMLInputElement>(null);
  const [dragging, setDragging] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [uploaded, setUploaded] = useState<string>("");

  async function upload(file: File) {
    setError(null);
    setUploaded("");
    if (file.size > maxUploadBytes) {
      setError(
        new Error(
          `${file.name} is ${formatBytes(file.size)}; a campaign takes up to 10 MiB of rows. ` +
            "Split the file into several campaigns.",
        ),
      );
      return;
    }
    setBusy(true);
    try {
      const result = await uploadRows(campaign.id, file);
      setUploaded(`${file.name}: ${plural(result.campaign.row_count, "row")} stored.`);
      onUploaded(result.campaign);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
      if (input.current) {
        input.current.value = "";
      }
    }
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    const file = event.dataTransfer.files[0];
    if (file && canEdit && !busy) {
      void upload(file);
    }
  }

  return (
    <Stack gap="md">
      {canEdit ? (
        <Paper
          withBorder
          radius="md"
          p="lg"
          onDragOver={(event) => {
            event.preventDefault();
            setDragging(true);
          }}
          onDragLeave={() => setDragging(false)}
          onDrop={drop}
          style={{
            borderStyle: "dashed",
            borderWidth: 2,
            borderColor: dragging ? "var(--mantine-color-indigo-5)" : undefined,
            background: dragging ? "var(--mantine-color-indigo-0)" : undefined,
          }}
        >
          <Stack align="center" gap="xs">
            <Text size="sm" ta="center">
              Drop a CSV file here, or choose one. The first line names the columns; each further
              line becomes one video.
            </Text>
            <input
              ref={input}
              type="file"
              accept=".csv,text/csv"
              hidden
              aria-label="CSV file of rows"
              data-testid="campaign-rows-upload"
              onChange={(event) => {
                const file = event.currentTarget.files?.[0];
                if (file) {
                  void upload(file);
                }
              }}
            />
            <Button variant="light" loading={busy} onClick={() => input.current?.click()}>
              {campaign.row_count > 0 ? "Replace rows with a CSV file" : "Choose a CSV file"}
            </Button>
            {campaign.row_count > 0 ? (
              <Text size="xs" c="dimmed">
                A new file replaces all {plural(campaign.row_count, "row")}.
              </Text>
            ) : null}
          </Stack>
        </Paper>
      ) : null}
      {error ? <UploadError error={error} /> : null}
      {uploaded ? (
        <Text size="sm" c="teal" role="status">
          {uploaded}
        </Text>
      ) : null}
      {campaign.row_count > 0 ? (
        <RowsTable campaign={campaign} key={`${campaign.row_count}:${campaign.updated_at_ms}`} />
      ) : (
        <Text size="sm" c="dimmed">
          No rows yet. Export your sheet as CSV (UTF-8) with one column per template field, such
          as home, away and kickoff.
        </Text>
      )}
    </Stack>
  );
}

// A 422 names the row that failed to parse; the rows before it were kept.
function UploadError({ error }: { error: unknown }) {
  const invalid = error instanceof ApiError && error.status === 422;
  return (
    <ErrorAlert
      error={error}
      title={invalid ? "The CSV file has a problem" : "Could not upload the rows"}
    />
  );
}

function RowsTable({ campaign }: { campaign: Campaign }) {
  const [page, setPage] = useState(1);
  const rows = useResource<RowsPage>(
    paths.rows(campaign.id, (page - 1) * rowsPageSize, rowsPageSize),
  );
  // Keeps the current page on screen while the next one loads.
  const shown = useRef<RowsPage | undefined>(undefined);
  if (rows.data) {
    shown.current = rows.data;
  }
  const data = shown.current;
  const pages = Math.max(1, Math.ceil((data?.total ?? campaign.row_count) / rowsPageSize));

  if (rows.error) {
    return <ErrorAlert error={rows.error} title="Could not load the rows" onRetry={rows.reload} />;
  }
  if (!data) {
    return <Loading label="Loading rows" />;
  }
  return (
    <Stack gap="sm">
      <Text size="sm" c="dimmed">
        {plural(data.total, "row")} with {plural(data.columns.length, "column")}:{" "}
        {data.columns.join(", ")}.
      </Text>
      <div className={classes.scroll}>
        <table
          className={`${classes.table} ${classes.striped}`}
          data-testid="campaign-rows-table"
          aria-label="Campaign rows"
          style={{ minWidth: 480, opacity: rows.loading ? 0.6 : 1 }}
        >
          <thead>
            <tr>
              <th scope="col">Row</th>
              {data.columns.map((column) => (
                <th scope="col" key={column}>
                  {column}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.rows.map((row) => (
              <tr key={row.number}>
                <td className={classes.dimmed}>{row.number}</td>
                {data.columns.map((column, index) => (
                  <td key={column}>{row.values[index] ?? ""}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {pages > 1 ? (
        <Group justify="center">
          <Pagination
            total={pages}
            value={page}
            onChange={setPage}
            size="sm"
            aria-label="Pages of rows"
          />
        </Group>
      ) : null}
    </Stack>
  );
}
