// Step 5 of a campaign: Generate all, with its cost in credits stated before
// the click, a confirmation, and what to do when the credits do not suffice.
import { Alert, Button, Group, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useState } from "react";

import { ApiError, idempotencyKey } from "../api/client";
import { generate, paths } from "../api/campaigns";
import type { Campaign, Credits } from "../api/campaigns";
import { plural } from "./BatchStatus";
import { Dialog } from "./Dialog";
import { formatCount } from "./format";
import { useResource } from "./resource";
import { ErrorAlert } from "./states";

interface Shortfall {
  needed: number;
  available: number;
  shortfall: number;
}

function shortfallOf(error: unknown): Shortfall | null {
  if (!(error instanceof ApiError) || error.code !== "insufficient_credits") {
    return null;
  }
  const number = (key: string) => (typeof error.body[key] === "number" ? error.body[key] : 0);
  return {
    needed: number("needed"),
    available: number("available"),
    shortfall: number("shortfall"),
  };
}

function ShortfallAlert({ shortfall }: { shortfall: Shortfall }) {
  return (
    <Alert color="red" variant="light" title="Not enough credits" role="alert">
      <Text size="sm">
        This needs {plural(shortfall.needed, "credit")} and {formatCount(shortfall.available)}{" "}
        {shortfall.available === 1 ? "is" : "are"} available, so{" "}
        {plural(shortfall.shortfall, "credit")} {shortfall.shortfall === 1 ? "is" : "are"}{" "}
        missing. Nothing was queued. Ask your platform administrator for a top-up, or upload
        fewer rows.
      </Text>
    </Alert>
  );
}

export function CampaignGenerate({
  campaign,
  canEdit,
  blockedReason,
  warning,
  onGenerated,
  creditsRevision,
}: {
  campaign: Campaign;
  canEdit: boolean;
  blockedReason: string;
  warning: string;
  onGenerated: (batchId: string) => void;
  // Changes when the balance may have changed, such as when a batch ends.
  creditsRevision: number;
}) {
  const credits = useResource<Credits>(paths.credits);
  const reloadCredits = credits.reload;
  useEffect(() => {
    if (creditsRevision > 0) {
      void reloadCredits();
    }
  }, [creditsRevision, reloadCredits]);
  const [confirmKey, setConfirmKey] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const rows = campaign.row_count;
  const price = credits.data?.video_price;
  const cost = price === undefined ? undefined : rows * price;
  const available = credits.data?.available;
  const short = cost !== undefined && available !== undefined && cost > available;

  async function confirm(key: string) {
    setBusy(true);
    setError(null);
    try {
      const generated = await generate(campaign.id, key);
      setConfirmKey(null);
      notifications.show({
        color: "teal",
        title: generated.created ? "Generating" : "Already generating",
        message: `${plural(generated.jobs, "video")} queued; ${plural(
          generated.credits_held,
          "credit",
        )} held until they finish.`,
      });
      onGenerated(generated.batch_id);
      void credits.reload();
    } catch (caught) {
      setConfirmKey(null);
      setError(caught);
      void credits.reload();
    } finally {
      setBusy(false);
    }
  }

  const shortfall = shortfallOf(error);
  let costText = "Loading your credits…";
  if (credits.error) {
    costText = `${plural(rows, "video")}; could not load your credits to state the cost.`;
  } else if (cost !== undefined && price !== undefined && available !== undefined) {
    costText =
      `${plural(rows, "video")} × ${plural(price, "credit")} = ${plural(cost, "credit")}; ` +
      `you have ${formatCount(available)}.`;
  }

  return (
    <Stack gap="md">
      <Text size="sm" fw={600} data-testid="campaign-cost">
        {costText}
      </Text>
      {credits.data && credits.data.held > 0 ? (
        <Text size="xs" c="dimmed" data-testid="campaign-credits-held">
          {plural(credits.data.held, "credit")} more {credits.data.held === 1 ? "is" : "are"} held
          by videos still rendering; they come back if those videos fail.
        </Text>
      ) : null}
      {short && !shortfall ? (
        <Alert color="orange" variant="light" title="Not enough credits">
          This needs {formatCount(cost - available)} more. Ask your platform administrator for a
          top-up, or upload fewer rows.
        </Alert>
      ) : null}
      {warning ? (
        <Text size="sm" c="orange">
          {warning}
        </Text>
      ) : null}
      {shortfall ? <ShortfallAlert shortfall={shortfall} /> : null}
      {error && !shortfall ? <ErrorAlert error={error} title="Could not generate" /> : null}
      <Group gap="sm">
        <Button
          size="md"
          onClick={() => setConfirmKey(idempotencyKey())}
          disabled={!canEdit || blockedReason !== "" || rows === 0 || short}
          data-testid="campaign-generate"
        >
          Generate all
        </Button>
        <Text size="sm" c="dimmed">
          {blockedReason ||
            (canEdit
              ? "One video per row, rendered by the workers."
              : "Generating needs the editor role.")}
        </Text>
      </Group>
      <Dialog
        opened={confirmKey !== null}
        onClose={() => (busy ? undefined : setConfirmKey(null))}
        title="Generate all videos?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            This queues {plural(rows, "video")} of “{campaign.name}” and holds{" "}
            {cost === undefined ? "their credits" : plural(cost, "credit")}. Each video is charged
            when it completes; the credits of failed or cancelled videos come back.
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirmKey(null)} disabled={busy}>
              Cancel
            </Button>
            <Button
              loading={busy}
              onClick={() => confirmKey && void confirm(confirmKey)}
              data-testid="campaign-generate-confirm"
              data-autofocus
            >
              Generate {plural(rows, "video")}
            </Button>
          </Group>
        </Stack>
      </Dialog>
    </Stack>
  );
}
