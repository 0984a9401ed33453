// The saved versions of a template, newest first, in a drawer: view one
// read-only in the editor, or restore it as the next version.
import { Badge, Button, Drawer, Group, Paper, Stack, Text } from "@mantine/core";
import { useEffect, useState } from "react";

import { getVersion } from "../api/templates";
import { useSession } from "../session";
import type { TemplateVersion } from "../api/templates";
import { formatTime } from "./format";
import { useResource } from "./resource";
import { ErrorAlert, Loading } from "./states";

export function TemplateVersions({
  opened,
  onClose,
  templateId,
  latestVersion,
  viewing,
  canEdit,
  onView,
  onRestore,
}: {
  opened: boolean;
  onClose: () => void;
  templateId: string;
  latestVersion: number;
  viewing: number | null;
  canEdit: boolean;
  onView: (version: TemplateVersion) => void;
  onRestore: (version: TemplateVersion) => void;
}) {
  const { me } = useSession();
  const path = opened ? `/api/v1/templates/${encodeURIComponent(templateId)}/versions` : null;
  const versions = useResource<{ versions: TemplateVersion[] }>(path);
  const [opening, setOpening] = useState(""); // "view:N" or "restore:N" while loading
  const [error, setError] = useState<unknown>(null);
  const { reload } = versions;

  // A save or a restore adds a version while the drawer may be open.
  useEffect(() => {
    if (opened) {
      void reload();
    }
  }, [latestVersion, opened, reload]);

  async function open(action: string, version: number, then: (loaded: TemplateVersion) => void) {
    setOpening(`${action}:${version}`);
    setError(null);
    try {
      then(await getVersion(templateId, version));
    } catch (caught) {
      setError(caught);
    } finally {
      setOpening("");
    }
  }

  const list = [...(versions.data?.versions ?? [])].reverse();

  return (
    <Drawer opened={opened} onClose={onClose} title="Versions" position="right" size="md">
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          Every save with a changed body is a new version. Versions never change, so a batch
          renders the version it was made with. Restoring saves an old body as the next version.
        </Text>
        {error ? <ErrorAlert error={error} title="Could not open the version" /> : null}
        {versions.error ? (
          <ErrorAlert
            error={versions.error}
            title="Could not load the versions"
            onRetry={() => void versions.reload()}
          />
        ) : null}
        {versions.loading && !versions.data ? <Loading label="Loading the versions" /> : null}
        <Stack gap="xs" component="ul" style={{ listStyle: "none", margin: 0, padding: 0 }}>
          {list.map((item) => {
            const latest = item.version === latestVersion;
            return (
              <Paper
                component="li"
                withBorder
                p="sm"
                radius="md"
                key={item.version}
                data-testid="template-version"
              >
                <Group justify="space-between" gap="xs" wrap="wrap">
                  <Stack gap={2}>
                    <Group gap={6}>
                      <Text fw={600} size="sm">
                        Version {item.version}
                      </Text>
                      {latest ? (
                        <Badge size="xs" variant="light">
                          Latest
                        </Badge>
                      ) : null}
                      {viewing === item.version ? (
                        <Badge size="xs" variant="light" color="yellow">
                          Shown
                        </Badge>
                      ) : null}
                    </Group>
                    <Text size="xs" c="dimmed">
                      {formatTime(item.created_at_ms)} by{" "}
                      {item.created_by === me?.actor ? "you" : item.created_by}
                    </Text>
                  </Stack>
                  <Group gap="xs">
                    <Button
                      size="xs"
                      variant="default"
                      loading={opening === `view:${item.version}`}
                      onClick={() => void open("view", item.version, onView)}
                      aria-label={`View version ${item.version}`}
                    >
                      View
                    </Button>
                    {canEdit && !latest ? (
                      <Button
                        size="xs"
                        variant="light"
                        loading={opening === `restore:${item.version}`}
                        onClick={() => void open("restore", item.version, onRestore)}
                        aria-label={`Restore version ${item.version}`}
                      >
                        Restore
                      </Button>
                    ) : null}
                  </Group>
                </Group>
              </Paper>
            );
          })}
        </Stack>
      </Stack>
    </Drawer>
  );
}
