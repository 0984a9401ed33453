// One measure of the Usage page per UTC day: a chart.js bar or line chart,
// a text summary, and the same numbers as a table for screen readers and
// for people who prefer to read them.
import { Card, Group, Stack, Switch, Table, Text, Title } from "@mantine/core";
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from "chart.js";
import { useEffect, useId, useRef, useState } from "react";
import type { ReactNode } from "react";

import { afterNextFrame } from "./frames";

// Only the pieces these charts use, so that the bundle leaves the rest out.
Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
);

export interface UsageSeries {
  labels: string[]; // one per day, oldest first
  // null where the day has no value, such as a hit rate on a day without renders.
  values: (number | null)[];
}

export function UsageChart({
  title,
  type,
  series,
  color,
  summary,
  formatValue,
  formatTick = formatValue,
  axisMax,
  integer = false,
  testId,
}: {
  title: string;
  type: "bar" | "line";
  series: UsageSeries;
  color: string;
  summary: ReactNode;
  // The text of one value in the tooltip, the axis and the table.
  formatValue: (value: number) => string;
  formatTick?: (value: number) => string;
  axisMax?: number;
  integer?: boolean;
  testId: string;
}) {
  const [asTable, setAsTable] = useState(false);
  const describeValue = (value: number | null) => (value === null ? "—" : formatValue(value));
  const canvas = useRef<HTMLCanvasElement | null>(null);
  const headingId = useId();
  const summaryId = useId();

  useEffect(() => {
    const element = canvas.current;
    if (asTable || !element) {
      return;
    }
    // The chart is drawn after the frame that shows the summary and the other
    // cards, because five charts take tens of milliseconds on a busy machine.
    let chart: Chart | undefined;
    const cancel = afterNextFrame(() => {
      chart = draw(element);
    });
    return () => {
      cancel();
      chart?.destroy();
    };
  }, [asTable, type, series, color, title, formatValue, formatTick, axisMax, integer]);

  function draw(element: HTMLCanvasElement): Chart {
    return new Chart(element, {
      type,
      data: {
        labels: series.labels,
        datasets: [
          {
            label: title,
            data: series.values,
            backgroundColor: color,
            borderColor: color,
            borderWidth: type === "line" ? 2 : 0,
            pointRadius: series.values.length > 31 ? 2 : 3,
            pointHoverRadius: 4,
            tension: 0,
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          tooltip: {
            callbacks: { label: (item) => `${title}: ${formatValue(item.parsed.y ?? 0)}` },
          },
        },
        scales: {
          x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: {
            beginAtZero: true,
            max: axisMax,
            ticks: {
              precision: integer ? 0 : undefined,
              callback: (value) => formatTick(Number(value)),
            },
          },
        },
      },
    });
  }

  return (
    <Card
      withBorder
      radius="md"
      padding="md"
      role="group"
      aria-labelledby={headingId}
      data-testid={testId}
    >
      <Stack gap="sm">
        <Group justify="space-between" align="flex-start" wrap="nowrap" gap="sm">
          <Title order={3} size="h5" id={headingId}>
            {title}
          </Title>
          <Switch
            size="xs"
            label="Show as table"
            checked={asTable}
            onChange={(event) => setAsTable(event.currentTarget.checked)}
            data-testid={`${testId}-table-toggle`}
          />
        </Group>
        <Text size="sm" id={summaryId} data-testid={`${testId}-summary`}>
          {summary}
        </Text>
        {asTable ? (
          <Table.ScrollContainer minWidth={240} maxHeight={260}>
            <Table striped stickyHeader aria-labelledby={headingId}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th scope="col">Day (UTC)</Table.Th>
                  <Table.Th scope="col" ta="right">
                    {title}
                  </Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {series.labels.map((label, index) => (
                  <Table.Tr key={label}>
                    <Table.Td>{label}</Table.Td>
                    <Table.Td ta="right">{describeValue(series.values[index])}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        ) : (
          <div style={{ position: "relative", height: 220 }}>
            <canvas ref={canvas} role="img" aria-labelledby={`${headingId} ${summaryId}`}>
              {title} per day; turn on “Show as table” to read the numbers.
            </canvas>
          </div>
        )}
      </Stack>
    </Card>
  );
}
