// Usage: the credit balance, charts per UTC day of videos, credits charged,
// render time, cache hit rate and failures, and the credit history.
import {
  Anchor,
  Button,
  Card,
  Group,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  useMantineTheme,
} from "@mantine/core";
import { useMemo, useState } from "react";
import { Link } from "wouter";

import { usagePath } from "../api/account";
import type { Credits, DayUsage } from "../api/account";
import { UsageChart } from "../components/UsageChart";
import type { UsageSeries } from "../components/UsageChart";
import { UsageHistory, firstHistoryPath } from "../components/UsageHistory";
import { formatCount } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";

const creditsPath = "/api/v1/credits";
const defaultRange = "30";

const ranges = [
  { value: "7", label: "7 days" },
  { value: "30", label: "30 days" },
  { value: "90", label: "90 days" },
];

const dayMs = 86_400_000;

function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

// Returns COUNT days ending with the server's last day (or today in UTC),
// with zeros for the days the server did not list.
function fillDays(days: DayUsage[], count: number): DayUsage[] {
  const byDate = new Map(days.map((day) => [day.date, day]));
  const last = days.length > 0 ? days[days.length - 1].date : utcDate(Date.now());
  const lastMs = Date.parse(`${last}T00:00:00Z`);
  const filled: DayUsage[] = [];
  for (let index = count - 1; index >= 0; index -= 1) {
    const date = utcDate(lastMs - index * dayMs);
    filled.push(
      byDate.get(date) ?? {
        date,
        videos: 0,
        failures: 0,
        credits: 0,
        render_seconds: 0,
        cache_hit_rate: 0,
      },
    );
  }
  return filled;
}

// One shared formatter: toLocaleDateString with options builds a new one per call.
const dayFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  timeZone: "UTC",
});

function dayLabel(date: string): string {
  return dayFormat.format(new Date(`${date}T00:00:00Z`));
}

const formatInteger = (value: number) => formatCount(Math.round(value));
const formatPercent = (value: number) => `${Math.round(value)}%`;

// Render time as people read it: "0.31 s", "4.2 s", "12 min 5 s", "3 h 20 min".
function formatDuration(seconds: number): string {
  if (seconds < 60) {
    return `${Number(seconds.toPrecision(seconds < 1 ? 2 : 3))} s`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    const rest = Math.round(seconds - minutes * 60);
    return rest > 0 ? `${minutes} min ${rest} s` : `${minutes} min`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes - hours * 60;
  return rest > 0 ? `${hours} h ${rest} min` : `${hours} h`;
}

// Axis ticks of the render time chart, in one unit so that steps stay distinct.
const formatSecondsTick = (seconds: number) => `${Number(seconds.toPrecision(3))} s`;
const formatMinutesTick = (seconds: number) => `${Number((seconds / 60).toPrecision(3))} min`;

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

// The day with the most videos, as "Dec 3 (12)", or null when there were none.
function busiestDay(days: DayUsage[]): string | null {
  let best: DayUsage | null = null;
  for (const day of days) {
    if (day.videos > 0 && (best === null || day.videos > best.videos)) {
      best = day;
    }
  }
  return best === null ? null : `${dayLabel(best.date)} (${formatCount(best.videos)})`;
}

function Balance({ credits }: { credits: Credits }) {
  const price = credits.video_price;
  const items = [
    { label: "Available credits", value: formatCount(credits.available) },
    { label: "Held by batches", value: formatCount(credits.held) },
    { label: "Price per video", value: `${formatCount(price)} credit${price === 1 ? "" : "s"}` },
  ];
  return (
    <SimpleGrid cols={3} spacing="xs" data-testid="usage-balance">
      {items.map((item) => (
        <Card withBorder radius="md" padding="sm" key={item.label}>
          <Text size="xs" c="dimmed">
            {item.label}
          </Text>
          <Text fw={700} size="xl">
            {item.value}
          </Text>
        </Card>
      ))}
    </SimpleGrid>
  );
}

function Charts({ days, range }: { days: DayUsage[]; range: number }) {
  const theme = useMantineTheme();
  const series = useMemo(() => {
    const labels = days.map((day) => dayLabel(day.date));
    const of = (values: (number | null)[]): UsageSeries => ({ labels, values });
    return {
      videos: of(days.map((day) => day.videos)),
      credits: of(days.map((day) => day.credits)),
      render: of(days.map((day) => day.render_seconds)),
      // A day without renders has no hit rate, so the line has a gap there.
      cache: of(days.map((day) => (day.videos > 0 ? day.cache_hit_rate * 100 : null))),
      failures: of(days.map((day) => day.failures)),
    };
  }, [days]);

  const videos = sum(days.map((day) => day.videos));
  const failures = sum(days.map((day) => day.failures));
  const credits = sum(days.map((day) => day.credits));
  const renderSeconds = sum(days.map((day) => day.render_seconds));
  const maxRenderSeconds = Math.max(...days.map((day) => day.render_seconds));
  const formatRenderTick = maxRenderSeconds >= 120 ? formatMinutesTick : formatSecondsTick;
  // The server returns each day's rate, not its lookups, so days are
  // weighted by their completed videos.
  const cacheRate =
    videos > 0 ? sum(days.map((day) => day.cache_hit_rate * day.videos)) / videos : 0;
  const period = `in the last ${range} days`;
  const busiest = busiestDay(days);

  return (
    <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="md">
      <UsageChart
        title="Videos completed"
        type="bar"
        integer
        series={series.videos}
        color={theme.colors.indigo[6]}
        formatValue={formatInteger}
        testId="usage-chart-videos"
        summary={
          <>
            <b>{formatCount(videos)}</b> videos completed {period}
            {busiest ? `; the busiest day was ${busiest}.` : "."}
          </>
        }
      />
      <UsageChart
        title="Credits charged"
        type="bar"
        integer
        series={series.credits}
        color={theme.colors.teal[6]}
        formatValue={formatInteger}
        testId="usage-chart-credits"
        summary={
          <>
            <b>{formatCount(credits)}</b> credits charged {period}
            {videos > 0 ? `, ${(credits / videos).toFixed(1)} per completed video.` : "."}
          </>
        }
      />
      <UsageChart
        title="Render time"
        type="line"
        series={series.render}
        color={theme.colors.violet[6]}
        formatValue={formatDuration}
        formatTick={formatRenderTick}
        testId="usage-chart-render"
        summary={
          <>
            <b>{formatDuration(renderSeconds)}</b> of render time {period}
            {videos > 0 ? `, ${formatDuration(renderSeconds / videos)} per video.` : "."}
          </>
        }
      />
      <UsageChart
        title="Render cache hit rate"
        type="line"
        series={series.cache}
        color={theme.colors.cyan[6]}
        formatValue={formatPercent}
        axisMax={100}
        testId="usage-chart-cache"
        summary={
          videos > 0 ? (
            <>
              <b>{formatPercent(cacheRate * 100)}</b> of render cache lookups hit {period}, as an
              average of the daily rates weighted by videos. Hits reuse rendered parts.
            </>
          ) : (
            <>No renders {period}, so there is no hit rate.</>
          )
        }
      />
      <UsageChart
        title="Failed videos"
        type="bar"
        integer
        series={series.failures}
        color={theme.colors.red[6]}
        formatValue={formatInteger}
        testId="usage-chart-failures"
        summary={
          <>
            <b>{formatCount(failures)}</b> videos failed {period}
            {videos + failures > 0
              ? `, ${formatPercent((failures / (videos + failures)) * 100)} of finished videos.`
              : "."}
          </>
        }
      />
    </SimpleGrid>
  );
}

// The requests of the page as it opens, asked for at a click on its link.
export function preload(): string[] {
  return [usagePath(Number(defaultRange)), creditsPath, firstHistoryPath()];
}

export default function UsagePage() {
  const [range, setRange] = useState(defaultRange);
  const [refreshKey, setRefreshKey] = useState(0);
  const usage = useResource<{ days: DayUsage[] }>(usagePath(Number(range)));
  const credits = useResource<Credits>(creditsPath);

  const days = useMemo(
    () => (usage.data ? fillDays(usage.data.days, Number(range)) : undefined),
    [usage.data, range],
  );
  const active = days?.some((day) => day.videos > 0 || day.failures > 0 || day.credits > 0);

  function refresh() {
    void usage.reload();
    void credits.reload();
    setRefreshKey((key) => key + 1);
  }

  let charts;
  if (usage.error) {
    charts = (
      <ErrorAlert
        error={usage.error}
        title="Could not load usage"
        onRetry={() => void usage.reload()}
      />
    );
  } else if (!days) {
    charts = <Loading label="Loading usage" />;
  } else if (!active) {
    charts = (
      <EmptyState title={`No videos in the last ${range} days`}>
        Charts appear once a batch renders. Open a campaign under{" "}
        <Anchor component={Link} href="/campaigns" inherit>
          Campaigns
        </Anchor> and generate its videos, or pick a longer range.
      </EmptyState>
    );
  } else {
    charts = <Charts days={days} range={Number(range)} />;
  }

  return (
    <Stack gap="lg">
      <PageHeader
        title="Usage"
        description="Videos, credits and render time per day. Days are in UTC."
        actions={
          <Group gap="sm" wrap="wrap">
            <SegmentedControl
              data={ranges}
              value={range}
              onChange={setRange}
              aria-label="Range"
              data-testid="usage-range"
            />
            <Button variant="default" onClick={refresh} loading={usage.loading && !!days}>
              Refresh
            </Button>
          </Group>
        }
      />
      {credits.error ? (
        <ErrorAlert
          error={credits.error}
          title="Could not load the credit balance"
          onRetry={() => void credits.reload()}
        />
      ) : credits.data ? (
        <Balance credits={credits.data} />
      ) : null}
      {charts}
      <UsageHistory refreshKey={refreshKey} />
    </Stack>
  );
}
