// The list of a template's problems under the editor: each names its line and
// where it comes from, and choosing one moves the editor's cursor there.
import { Badge, Group, Loader, NavLink, Paper, Stack, Text } from "@mantine/core";

import type { TemplateProblem } from "./TemplateValidation";

export type ServerCheck =
  | { state: "idle" }
  | { state: "checking" }
  | { state: "done" }
  | { state: "failed"; message: string };

const sourceLabels: Record<TemplateProblem["source"], string> = {
  syntax: "JSON",
  schema: "Schema",
  server: "Server",
};

const sourceColors: Record<TemplateProblem["source"], string> = {
  syntax: "red",
  schema: "orange",
  server: "grape",
};

function ServerCheckNote({ check }: { check: ServerCheck }) {
  return (
    <Stack gap={2}>
      {check.state === "checking" ? (
        <Group gap={6}>
          <Loader size={12} />
          <Text size="xs" c="dimmed">
            The server is checking fields, fonts and animations…
          </Text>
        </Group>
      ) : null}
      {check.state === "failed" ? (
        <Text size="xs" c="orange.8">
          The server check did not run: {check.message}
        </Text>
      ) : null}
    </Stack>
  );
}

export function TemplateProblems({
  problems,
  check,
  onSelect,
}: {
  problems: TemplateProblem[];
  check: ServerCheck;
  onSelect: (problem: TemplateProblem) => void;
}) {
  const sorted = [...problems].sort((a, b) => a.from - b.from);
  return (
    <Paper withBorder p="sm" radius="md" data-testid="template-problems">
      <Stack gap="xs">
        <Group justify="space-between" gap="xs">
          <Text fw={600} size="sm" component="h2" m={0}>
            Problems
          </Text>
          <Badge color={sorted.length > 0 ? "red" : "green"} variant="light" aria-live="polite">
            {sorted.length === 0
              ? check.state === "checking"
                ? "Checking"
                : "None"
              : `${sorted.length} ${sorted.length === 1 ? "problem" : "problems"}`}
          </Badge>
        </Group>
        {sorted.length === 0 && check.state === "done" ? (
          <Text size="sm" c="dimmed">
            The template is valid: the schema and the server accept it.
          </Text>
        ) : null}
        {sorted.length > 0 ? (
          <Stack
            gap={2}
            component="ul"
            aria-label="Template problems"
            style={{ listStyle: "none", margin: 0, padding: 0, maxHeight: 240, overflowY: "auto" }}
          >
            {sorted.map((problem, index) => (
              <li key={`${problem.source}-${problem.from}-${index}`}>
                <NavLink
                  component="button"
                  onClick={() => onSelect(problem)}
                  data-testid="template-problem"
                  py={6}
                  px={6}
                  style={{ borderRadius: "var(--mantine-radius-sm)", alignItems: "flex-start" }}
                  leftSection={
                    <Group gap="xs" wrap="nowrap">
                      <Text size="xs" c="dimmed" miw={52} style={{ whiteSpace: "nowrap" }}>
                        Line {problem.line}
                      </Text>
                      <Badge
                        size="xs"
                        variant="light"
                        color={sourceColors[problem.source]}
                        miw={56}
                      >
                        {sourceLabels[problem.source]}
                      </Badge>
                    </Group>
                  }
                  label={
                    <Text size="sm" style={{ wordBreak: "break-word" }}>
                      {problem.message}
                    </Text>
                  }
                  description={
                    problem.pointer ? (
                      <Text span size="xs" c="dimmed" ff="monospace">
                        {problem.pointer}
                      </Text>
                    ) : undefined
                  }
                />
              </li>
            ))}
          </Stack>
        ) : null}
        <ServerCheckNote check={check} />
      </Stack>
    </Paper>
  );
}
