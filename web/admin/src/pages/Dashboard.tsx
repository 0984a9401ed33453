// The dashboard: credits, the render queue and workers (polled while the page
// is visible), the last seven days of usage, and the newest batches.
import {
  Anchor,
  Button,
  Group,
  List,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  ThemeIcon,
  Title,
} from "@mantine/core";
import { useEffect } from "react";
import type { ReactNode } from "react";
import { Link } from "wouter";

import { describeError } from "../api/client";
import { paths } from "../api/campaigns";
import type {
  Batch,
  BrandKitSummary,
  Campaign,
  Credits,
  DayUsage,
  QueueStatus,
  TemplateSummary,
} from "../api/campaigns";
import { canAct } from "../api/session";
import { BatchStateBadge, plural } from "../components/BatchStatus";
import { formatCount, formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

const statusIntervalMs = 5000;
const usageDays = 7;
const recentBatches = 10;

function formatDuration(seconds: number): string {
  if (seconds < 120) {
    return `${Math.round(seconds)} s`;
  }
  if (seconds < 2 * 3600) {
    return `${formatCount(Math.round(seconds / 60))} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

// Calls RELOAD every INTERVAL ms while the page is visible, and right away
// when it becomes visible again.
function usePolling(reload: () => Promise<void>, interval: number) {
  useEffect(() => {
    let timer: number | undefined;
    const schedule = () => {
      window.clearInterval(timer);
      timer = undefined;
      if (document.visibilityState === "visible") {
        timer = window.setInterval(() => void reload(), interval);
      }
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") {
        void reload();
      }
      schedule();
    };
    schedule();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [reload, interval]);
}

function Card({
  title,
  testId,
  children,
  footer,
}: {
  title: string;
  testId: string;
  children: ReactNode;
  footer?: ReactNode;
}) {
  const headingId = `${testId}-title`;
  return (
    <Paper
      withBorder
      radius="md"
      p="lg"
      component="section"
      aria-labelledby={headingId}
      data-testid={testId}
    >
      <Stack gap="sm" h="100%">
        <Title order={2} size="h5" id={headingId}>
          {title}
        </Title>
        <Stack gap="xs" style={{ flex: 1 }}>
          {children}
        </Stack>
        {footer}
      </Stack>
    </Paper>
  );
}

function Figure({ label, value, hint }: { label: string; value: ReactNode; hint?: ReactNode }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xl" fw={700} lh={1.2}>
        {value}
      </Text>
      {hint ? (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Stack>
  );
}

function CreditsCard() {
  const credits = useResource<Credits>(paths.credits);
  const data = credits.data;
  return (
    <Card
      title="Credits"
      testId="dashboard-credits"
      footer={
        <Anchor component={Link} href="/usage" size="sm">
          Usage and credit history
        </Anchor>
      }
    >
      {credits.error ? (
        <ErrorAlert
          error={credits.error}
          title="Could not load the credits"
          onRetry={credits.reload}
        />
      ) : !data ? (
        <Loading />
      ) : (
        <>
          <Figure
            label="Available"
            value={
              <span data-testid="dashboard-credits-available">{formatCount(data.available)}</span>
            }
            hint={
              data.video_price > 0
                ? `Enough for ${plural(Math.floor(data.available / data.video_price), "video")}`
                : "Videos cost nothing here."
            }
          />
          <Group gap="xl">
            <Figure label="Price per video" value={plural(data.video_price, "credit")} />
            <Figure label="Held by rendering videos" value={formatCount(data.held)} />
          </Group>
          {data.available === 0 ? (
            <Text size="sm" c="orange">
              No credits left: ask your platform administrator for a top-up before you generate.
            </Text>
          ) : null}
        </>
      )}
    </Card>
  );
}

function StatusCard() {
  const status = useResource<QueueStatus>(paths.status);
  usePolling(status.reload, statusIntervalMs);
  const data = status.data;

  let body: ReactNode;
  if (status.error && !data) {
    body = (
      <ErrorAlert error={status.error} title="Could not load the queue" onRetry={status.reload} />
    );
  } else if (!data) {
    body = <Loading />;
  } else {
    body = (
      <>
        <SimpleGrid cols={2} spacing="sm">
          <Figure
            label="Workers"
            value={<span data-testid="dashboard-workers">{formatCount(data.workers.alive)}</span>}
            hint={`${formatCount(data.workers.busy)} busy`}
          />
          <Figure
            label="Queue, all agencies"
            value={formatCount(data.queue.waiting)}
            hint={`waiting; ${formatCount(data.queue.running)} rendering`}
          />
          <Figure
            label="Your videos"
            value={formatCount(data.tenant.queued)}
            hint={`queued; ${formatCount(data.tenant.active)} rendering`}
          />
        </SimpleGrid>
        {data.workers.alive === 0 ? (
          <Text size="sm" c="red">
            No render worker is running, so queued videos wait. Start smmhub-worker, or tell your
            platform administrator.
          </Text>
        ) : null}
        {status.error ? (
          <Text size="xs" c="red">
            Last refresh failed: {describeError(status.error)}
          </Text>
        ) : null}
      </>
    );
  }
  return (
    <Card
      title="Queue and workers"
      testId="dashboard-status"
      footer={
        <Text size="xs" c="dimmed">
          Refreshes every 5 seconds while this page is open.
        </Text>
      }
    >
      {body}
    </Card>
  );
}

function UsageCard() {
  const usage = useResource<{ days: DayUsage[] }>(paths.usage(usageDays));
  const days = usage.data?.days ?? [];
  const total = days.reduce(
    (sum, day) => ({
      videos: sum.videos + day.videos,
      failures: sum.failures + day.failures,
      credits: sum.credits + day.credits,
      seconds: sum.seconds + day.render_seconds,
    }),
    { videos: 0, failures: 0, credits: 0, seconds: 0 },
  );
  return (
    <Card
      title="Last 7 days"
      testId="dashboard-usage"
      footer={
        <Anchor component={Link} href="/usage" size="sm">
          Usage by day
        </Anchor>
      }
    >
      {usage.error ? (
        <ErrorAlert error={usage.error} title="Could not load the usage" onRetry={usage.reload} />
      ) : !usage.data ? (
        <Loading />
      ) : (
        <SimpleGrid cols={2} spacing="sm">
          <Figure label="Videos made" value={formatCount(total.videos)} />
          <Figure label="Failed" value={formatCount(total.failures)} />
          <Figure label="Credits charged" value={formatCount(total.credits)} />
          <Figure
            label="Render time"
            value={formatDuration(total.seconds)}
            hint={
              total.videos > 0
                ? `${(total.seconds / total.videos).toFixed(1)} s per video`
                : undefined
            }
          />
        </SimpleGrid>
      )}
    </Card>
  );
}

function GettingStarted({
  templates,
  kits,
  canEdit,
}: {
  templates: number;
  kits: number;
  canEdit: boolean;
}) {
  const step = (done: boolean, number: number) => (
    <ThemeIcon
      radius="xl"
      size="sm"
      color={done ? "teal" : "indigo"}
      variant={done ? "filled" : "light"}
    >
      <Text size="xs" fw={700} c="inherit">
        {done ? "✓" : number}
      </Text>
    </ThemeIcon>
  );
  return (
    <Paper withBorder radius="md" p="lg" data-testid="dashboard-start">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Make your first videos
        </Title>
        <Text size="sm" c="dimmed">
          {canEdit
            ? "Three steps, in this order. Each page explains what it needs."
            : "Editors of your agency set these up; you will see the results here."}
        </Text>
        <List spacing="sm" center>
          <List.Item icon={step(kits > 0, 1)}>
            <Anchor component={Link} href="/brand-kits">
              Brand kit
            </Anchor>
            : your client's colours, fonts and logo.
          </List.Item>
          <List.Item icon={step(templates > 0, 2)}>
            <Anchor component={Link} href="/templates">
              Template
            </Anchor>
            : the scenes of the video and the fields each row fills.
          </List.Item>
          <List.Item icon={step(false, 3)}>
            <Anchor component={Link} href="/campaigns">
              Campaign
            </Anchor>
            : a CSV file of rows, one video per row, then Generate all.
          </List.Item>
        </List>
        {canEdit && templates > 0 && kits > 0 ? (
          <Group>
            <Button component={Link} href="/campaigns/new">
              New campaign
            </Button>
          </Group>
        ) : null}
      </Stack>
    </Paper>
  );
}

function RecentBatches({ campaigns }: { campaigns: Campaign[] | undefined }) {
  const batches = useResource<{ batches: Batch[] }>(paths.batches({ limit: recentBatches }));
  const names = new Map(campaigns?.map((campaign) => [campaign.id, campaign.name]));
  const list = batches.data?.batches;

  let body: ReactNode;
  if (batches.error) {
    body = (
      <ErrorAlert
        error={batches.error}
        title="Could not load the batches"
        onRetry={batches.reload}
      />
    );
  } else if (!list) {
    body = <Loading />;
  } else if (list.length === 0) {
    body = (
      <Text size="sm" c="dimmed">
        No batches yet. Open a campaign and press Generate all; its batch shows here.
      </Text>
    );
  } else {
    body = (
      <Table.ScrollContainer minWidth={640}>
        <Table verticalSpacing="xs" highlightOnHover aria-label="Recent batches">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Campaign</Table.Th>
              <Table.Th scope="col">Started</Table.Th>
              <Table.Th scope="col">State</Table.Th>
              <Table.Th scope="col" ta="right">
                Made
              </Table.Th>
              <Table.Th scope="col" ta="right">
                Failed
              </Table.Th>
              <Table.Th scope="col" ta="right">
                Videos
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((batch) => {
              const name = names.get(batch.campaign_id);
              return (
                <Table.Tr key={batch.id} data-testid={`dashboard-batch-${batch.id}`}>
                  <Table.Td>
                    {name !== undefined ? (
                      <Anchor component={Link} href={`/campaigns/${batch.campaign_id}`}>
                        {name}
                      </Anchor>
                    ) : (
                      <Text span size="sm" c="dimmed">
                        {campaigns ? "Deleted campaign" : batch.campaign_id}
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>{formatTime(batch.created_at_ms ?? 0)}</Table.Td>
                  <Table.Td>
                    <BatchStateBadge batch={batch} />
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(batch.counts.completed ?? 0)}</Table.Td>
                  <Table.Td ta="right" c={(batch.counts.failed ?? 0) > 0 ? "red" : undefined}>
                    {formatCount(batch.counts.failed ?? 0)}
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(batch.job_count)}</Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }
  return (
    <Paper
      withBorder
      radius="md"
      p="lg"
      component="section"
      aria-labelledby="dashboard-batches-title"
      data-testid="dashboard-batches"
    >
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={2} size="h5" id="dashboard-batches-title">
            Recent batches
          </Title>
          <Anchor component={Link} href="/campaigns" size="sm">
            All campaigns
          </Anchor>
        </Group>
        {body}
      </Stack>
    </Paper>
  );
}

// The requests of the dashboard's cards, asked for at a click on its link.
export function preload(): string[] {
  return [
    paths.campaigns,
    paths.templates,
    paths.brandKits,
    paths.credits,
    paths.status,
    paths.usage(usageDays),
    paths.batches({ limit: recentBatches }),
  ];
}

export default function DashboardPage() {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const campaigns = useResource<{ campaigns: Campaign[] }>(paths.campaigns);
  const templates = useResource<{ templates: TemplateSummary[] }>(paths.templates);
  const kits = useResource<{ brand_kits: BrandKitSummary[] }>(paths.brandKits);

  const newTenant =
    campaigns.data?.campaigns.length === 0 &&
    templates.data !== undefined &&
    kits.data !== undefined;

  return (
    <>
      <PageHeader
        title="Dashboard"
        description={me?.tenant ? `${me.tenant.name} at a glance.` : undefined}
      />
      <Stack gap="md">
        {newTenant ? (
          <GettingStarted
            templates={templates.data?.templates.length ?? 0}
            kits={kits.data?.brand_kits.length ?? 0}
            canEdit={canEdit}
          />
        ) : null}
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} spacing="md">
          <CreditsCard />
          <StatusCard />
          <UsageCard />
        </SimpleGrid>
        <RecentBatches campaigns={campaigns.data?.campaigns} />
      </Stack>
    </>
  );
}
