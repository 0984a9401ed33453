// One numbered step of the campaign page: a titled section that says whether
// it is done, and why it cannot start yet when an earlier step is missing.
import { Badge, Group, Paper, Stack, Text, ThemeIcon, Title } from "@mantine/core";
import type { ReactNode } from "react";

export type StepStatus = "done" | "todo" | "blocked" | "attention";

const statusBadges: Record<StepStatus, { label: string; color: string } | null> = {
  done: { label: "Done", color: "teal" },
  todo: null,
  blocked: null,
  attention: { label: "Needs attention", color: "orange" },
};

export function CampaignStep({
  number,
  title,
  description,
  status,
  blockedReason,
  testId,
  children,
}: {
  number: number;
  title: string;
  description?: ReactNode;
  status: StepStatus;
  blockedReason?: string;
  testId?: string;
  children?: ReactNode;
}) {
  const headingId = `campaign-step-${number}`;
  const badge = statusBadges[status];
  return (
    <Paper
      withBorder
      radius="md"
      p={{ base: "sm", sm: "lg" }}
      component="section"
      aria-labelledby={headingId}
      data-testid={testId}
    >
      <Stack gap="md">
        <Group justify="space-between" align="flex-start" wrap="nowrap" gap="sm">
          <Group gap="sm" wrap="nowrap" align="flex-start">
            <ThemeIcon
              radius="xl"
              size="md"
              variant={status === "done" ? "filled" : "light"}
              color={status === "done" ? "teal" : status === "blocked" ? "gray" : "indigo"}
              aria-hidden
            >
              <Text size="sm" fw={700} c="inherit">
                {number}
              </Text>
            </ThemeIcon>
            <Stack gap={2}>
              <Title order={2} size="h4" id={headingId}>
                {title}
              </Title>
              {description ? (
                <Text size="sm" c="dimmed">
                  {description}
                </Text>
              ) : null}
            </Stack>
          </Group>
          {badge ? (
            <Badge color={badge.color} variant="light" style={{ flexShrink: 0 }}>
              {badge.label}
            </Badge>
          ) : null}
        </Group>
        {status === "blocked" ? (
          <Text size="sm" c="dimmed" fs="italic">
            {blockedReason}
          </Text>
        ) : (
          children
        )}
      </Stack>
    </Paper>
  );
}
