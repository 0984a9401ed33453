// Templates: the tenant's list at /templates, and the editor of one template
// at /templates/:id ("new" for a new one). The editor, with CodeMirror and ajv,
// loads only when it is opened.
import { Anchor, Button, Group, Stack, Table, Text } from "@mantine/core";
import { Suspense, lazy } from "react";
import { Link, useParams, useSearch } from "wouter";

import { canAct } from "../api/session";
import type { Template } from "../api/templates";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

const templatesPath = "/api/v1/templates";

const TemplateEditor = lazy(() =>
  import("../components/TemplateEditor").then((module) => ({ default: module.TemplateEditor })),
);

function CreateButtons() {
  return (
    <>
      <Button component={Link} href="/templates/new" data-testid="templates-new">
        New template
      </Button>
      <Button
        component={Link}
        href="/templates/new?from=matchday"
        variant="default"
        data-testid="templates-from-example"
      >
        Start from the Match Day example
      </Button>
    </>
  );
}

function TemplateList() {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const templates = useResource<{ templates: Template[] }>(templatesPath);
  const list = templates.data?.templates ?? [];

  let content;
  if (templates.error) {
    content = (
      <ErrorAlert
        error={templates.error}
        title="Could not load the templates"
        onRetry={() => void templates.reload()}
      />
    );
  } else if (!templates.data) {
    content = <Loading label="Loading the templates" />;
  } else if (list.length === 0) {
    content = (
      <EmptyState
        title="No templates yet"
        action={
          canEdit ? (
            <Group gap="sm" justify="center">
              <CreateButtons />
            </Group>
          ) : undefined
        }
      >
        A template describes one short video as JSON: its canvas, the fields that each row of
        data fills in (such as the home and away teams), and scenes of text, image and shape
        layers with their animations. A campaign binds a template to a brand kit and a table of
        rows, and renders one video per row.
        {canEdit ? "" : " An editor of your agency can create the first one."}
      </EmptyState>
    );
  } else {
    content = (
      <Table.ScrollContainer minWidth={480}>
        <Table striped highlightOnHover data-testid="templates-list" aria-label="Templates">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Latest version</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((template) => (
              <Table.Tr key={template.id} data-testid="templates-row">
                <Table.Td>
                  <Anchor component={Link} href={`/templates/${encodeURIComponent(template.id)}`}>
                    {template.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{template.latest_version}</Table.Td>
                <Table.Td>{formatTime(template.updated_at_ms)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }

  return (
    <Stack gap={0}>
      <PageHeader
        title="Templates"
        description={
          "The designs of your videos, as JSON with a live preview. Each save is a new version."
        }
        actions={canEdit && list.length > 0 ? <CreateButtons /> : undefined}
      />
      {content}
      {!canEdit && list.length > 0 ? (
        <Text size="sm" c="dimmed" mt="sm">
          You can read templates; creating and editing them needs the editor role.
        </Text>
      ) : null}
    </Stack>
  );
}

// The request of the template list, asked for at a click on its link.
export function preload(): string[] {
  return [templatesPath];
}

export default function TemplatesPage() {
  const params = useParams<{ id?: string }>();
  const search = useSearch();
  if (!params.id) {
    return <TemplateList />;
  }
  const example = params.id === "new" && new URLSearchParams(search).get("from") === "matchday";
  return (
    <Suspense fallback={<Loading label="Loading the editor" />}>
      <TemplateEditor key={`${params.id}-${example}`} id={params.id} example={example} />
    </Suspense>
  );
}
