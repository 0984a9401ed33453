// Step 4 of a campaign: a worker checks every row as Generate all would
// render it, and the page lists the problems per row with a summary.
import { Alert, Badge, Button, Group, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";

import { ApiError } from "../api/client";
import { preflight } from "../api/campaigns";
import type { Campaign, Preflight, Severity } from "../api/campaigns";
import { plural } from "./BatchStatus";
import { formatCount } from "./format";
import { ErrorAlert } from "./states";

const severityColors: Record<Severity, string> = { error: "red", warning: "orange", info: "gray" };

// Long lists show this many problems until the user asks for all.
const shownProblems = 100;

export interface PreflightRun {
  result: Preflight;
  revision: number; // the campaign's updated_at_ms when it was checked
}

function preflightError(error: unknown): { title: string; error: unknown } {
  if (error instanceof ApiError && error.code === "preflight_timeout") {
    return {
      title: "No worker answered",
      error: new Error(
        `${error.message}. Check on the dashboard that render workers are running, then try again.`,
      ),
    };
  }
  if (error instanceof ApiError && error.code === "campaign_incomplete") {
    return { title: "The campaign is not ready to check", error };
  }
  if (error instanceof ApiError && error.status === 404 && error.message.startsWith("no route")) {
    return {
      title: "This server cannot check rows",
      error: new Error(
        "smmhub-api has no preflight route yet. Update it to check rows; Generate all still works.",
      ),
    };
  }
  return { title: "Could not check the rows", error };
}

export function summarize(result: Preflight): string {
  if (!result.template_valid) {
    return "The template has problems, so no row can render.";
  }
  const ready = Math.max(0, result.rows - result.rows_with_errors);
  if (result.rows_with_errors === 0) {
    return `All ${plural(result.rows, "row")} ready.`;
  }
  const problems =
    result.rows_with_errors === 1
      ? "1 row has problems"
      : `${formatCount(result.rows_with_errors)} rows have problems`;
  return `${formatCount(ready)} ${ready === 1 ? "row" : "rows"} ready, ${problems}.`;
}

export function CampaignPreflight({
  campaign,
  canEdit,
  blockedReason,
  run,
  onRun,
}: {
  campaign: Campaign;
  canEdit: boolean;
  blockedReason: string;
  run: PreflightRun | null;
  onRun: (run: PreflightRun | null) => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [showAll, setShowAll] = useState(false);

  async function check() {
    setBusy(true);
    setError(null);
    try {
      const result = await preflight(campaign.id);
      onRun({ result, revision: campaign.updated_at_ms ?? 0 });
      setShowAll(false);
    } catch (caught) {
      onRun(null);
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const stale = run !== null && run.revision !== (campaign.updated_at_ms ?? 0);
  const result = run?.result;
  const clean = result !== undefined && result.template_valid && result.rows_with_errors === 0;
  const problems = result?.problems ?? [];
  const visible = showAll ? problems : problems.slice(0, shownProblems);
  const shownError = error ? preflightError(error) : null;

  return (
    <Stack gap="md">
      <Group gap="sm">
        <Button
          variant={clean && !stale ? "light" : "filled"}
          onClick={() => void check()}
          loading={busy}
          disabled={!canEdit || blockedReason !== ""}
          data-testid="campaign-preflight"
        >
          {run ? "Check rows again" : "Check rows"}
        </Button>
        <Text size="sm" c="dimmed">
          {blockedReason ||
            (canEdit
              ? "A worker checks every row as Generate all would render it, and renders nothing."
              : "Checking rows needs the editor role.")}
        </Text>
      </Group>
      {busy ? (
        <Text size="sm" c="dimmed" role="status">
          Checking {plural(campaign.row_count, "row")}…
        </Text>
      ) : null}
      {shownError ? <ErrorAlert error={shownError.error} title={shownError.title} /> : null}
      {result ? (
        <Stack gap="sm" data-testid="campaign-preflight-result">
          <Alert
            color={clean ? "teal" : "orange"}
            variant="light"
            title={summarize(result)}
            role="status"
          >
            {stale
              ? "The campaign changed after this check. Check the rows again to see its effect."
              : clean
                ? "Generate all should make a video of every row."
                : "Rows with errors fail when you generate. Fix them in the CSV file and " +
                  "upload it again, or generate anyway and retry them later."}
          </Alert>
          {problems.length > 0 ? (
            <Table.ScrollContainer minWidth={560}>
              <Table
                withTableBorder
                striped
                aria-label="Problems found in the rows"
                data-testid="campaign-preflight-problems"
              >
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Row</Table.Th>
                    <Table.Th scope="col">Place</Table.Th>
                    <Table.Th scope="col">Problem</Table.Th>
                    <Table.Th scope="col">Severity</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {visible.map((problem, index) => (
                    <Table.Tr key={index}>
                      <Table.Td>{problem.row ?? "—"}</Table.Td>
                      <Table.Td>{problem.place}</Table.Td>
                      <Table.Td>{problem.message}</Table.Td>
                      <Table.Td>
                        <Badge color={severityColors[problem.severity] ?? "gray"} variant="light">
                          {problem.severity}
                        </Badge>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          ) : null}
          {problems.length > visible.length ? (
            <Group>
              <Button variant="subtle" size="xs" onClick={() => setShowAll(true)}>
                Show all {formatCount(problems.length)} problems
              </Button>
            </Group>
          ) : null}
        </Stack>
      ) : null}
    </Stack>
  );
}
