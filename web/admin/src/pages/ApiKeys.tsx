// API keys: the tenant's keys for scripts, a form that creates one and shows
// its secret once, and revocation with confirmation.
import {
  Badge,
  Button,
  NativeSelect,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMemo, useState } from "react";
import type { FormEvent } from "react";

import { createApiKey, revokeApiKey, roleDescriptions, tenantRoles } from "../api/account";
import type { ApiKey, NewApiKey, TenantRole } from "../api/account";
import type { User } from "../api/session";
import { ConfirmDialog } from "../components/AdminConfirm";
import { SecretOnce } from "../components/AdminSecrets";
import { Dialog } from "../components/Dialog";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";

const apiKeysPath = "/api/v1/api-keys";

function CreateKeyModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (key: NewApiKey) => void;
}) {
  const [name, setName] = useState("");
  const [role, setRole] = useState<TenantRole>("editor");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<NewApiKey | null>(null);

  function close() {
    if (busy) {
      return;
    }
    setName("");
    setRole("editor");
    setError(null);
    setCreated(null);
    onClose();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const key = await createApiKey(name.trim(), role);
      setCreated(key);
      onCreated(key);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      opened={opened}
      onClose={close}
      title={created ? `API key “${created.name}” created` : "Create an API key"}
      size="lg"
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack gap="md">
          <SecretOnce label="Secret" secret={created.secret} testId="apikeys-secret">
            Scripts send it as <code>Authorization: Bearer</code> followed by the secret.
          </SecretOnce>
          <Button onClick={close} style={{ alignSelf: "flex-end" }}>
            I have stored the secret
          </Button>
        </Stack>
      ) : (
        <form onSubmit={submit}>
          <Stack gap="sm">
            {error ? <ErrorAlert error={error} title="Could not create the key" /> : null}
            <TextInput
              label="Name"
              description="What uses the key, such as “nightly export script”."
              required
              data-autofocus
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
            />
            <NativeSelect
              label="Role"
              description="Give a script the least role it needs."
              value={role}
              onChange={(event) => setRole(event.currentTarget.value as TenantRole)}
              data={tenantRoles.map((value) => ({ value, label: roleDescriptions[value] }))}
            />
            <Button type="submit" loading={busy} style={{ alignSelf: "flex-start" }}>
              Create key
            </Button>
          </Stack>
        </form>
      )}
    </Dialog>
  );
}

// "user:ID" as that user's email when the tenant's users are known.
function useCreatorNames(): (createdBy: string) => string {
  const users = useResource<{ users: User[] }>("/api/v1/users");
  return useMemo(() => {
    const emails = new Map(
      (users.data?.users ?? []).map((user) => [`user:${user.id}`, user.email]),
    );
    return (createdBy: string) => {
      const email = emails.get(createdBy);
      if (email) {
        return email;
      }
      if (createdBy.startsWith("key:")) {
        return `API key ${createdBy.slice(4)}`;
      }
      return createdBy || "—";
    };
  }, [users.data]);
}

function KeyTable({ keys, onRevoke }: { keys: ApiKey[]; onRevoke: (key: ApiKey) => void }) {
  const creatorName = useCreatorNames();
  return (
    <Table.ScrollContainer minWidth={820}>
      <Table striped highlightOnHover data-testid="apikeys-list" aria-label="API keys">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Created by</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
            <Table.Th scope="col">Last used</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {keys.map((key) => (
            <Table.Tr key={key.id} data-testid="apikeys-row" data-revoked={key.revoked}>
              <Table.Td>
                <Text size="sm" fw={500} c={key.revoked ? "dimmed" : undefined}>
                  {key.name}
                </Text>
                <Text size="xs" c="dimmed">
                  {key.id}
                </Text>
              </Table.Td>
              <Table.Td>{key.role}</Table.Td>
              <Table.Td>{creatorName(key.created_by)}</Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(key.created_at_ms)}</Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>
                {key.last_used_at_ms ? formatTime(key.last_used_at_ms) : "Never"}
              </Table.Td>
              <Table.Td>
                {key.revoked ? (
                  <Badge color="gray" variant="light" miw="fit-content">
                    Revoked {formatTime(key.revoked_at_ms)}
                  </Badge>
                ) : (
                  <Badge color="teal" variant="light" miw="fit-content">
                    Active
                  </Badge>
                )}
              </Table.Td>
              <Table.Td ta="right">
                {key.revoked ? null : (
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    aria-label={`Revoke ${key.name}`}
                    onClick={() => onRevoke(key)}
                  >
                    Revoke
                  </Button>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

// The request of the key list, asked for at a click on its link.
export function preload(): string[] {
  return [apiKeysPath];
}

export default function ApiKeysPage() {
  const keys = useResource<{ api_keys: ApiKey[] }>(apiKeysPath);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiKey | null>(null);

  async function revoke(key: ApiKey) {
    const revoked = await revokeApiKey(key.id);
    const list = keys.data?.api_keys ?? [];
    keys.setData({ api_keys: list.map((item) => (item.id === revoked.id ? revoked : item)) });
    notifications.show({
      color: "teal",
      message: `Revoked “${key.name}”. Requests with its secret now get 401.`,
    });
  }

  let body;
  if (keys.error) {
    body = (
      <ErrorAlert
        error={keys.error}
        title="Could not load the API keys"
        onRetry={() => void keys.reload()}
      />
    );
  } else if (!keys.data) {
    body = <Loading label="Loading API keys" />;
  } else if (keys.data.api_keys.length === 0) {
    body = (
      <EmptyState
        title="No API keys yet"
        action={
          <Button variant="light" onClick={() => setCreating(true)}>
            Create the first key
          </Button>
        }
      >
        A key lets a script call the API as your agency, with the role you give it.
      </EmptyState>
    );
  } else {
    body = <KeyTable keys={keys.data.api_keys} onRevoke={setRevoking} />;
  }

  return (
    <Stack gap="lg">
      <PageHeader
        title="API keys"
        description="Keys let scripts and other systems call the smmhub API for your agency."
        actions={
          <Button onClick={() => setCreating(true)} data-testid="apikeys-create">
            Create API key
          </Button>
        }
      />
      {body}
      <CreateKeyModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(key) => {
          const { secret: _secret, ...stored } = key;
          keys.setData({ api_keys: [...(keys.data?.api_keys ?? []), stored] });
        }}
      />
      <ConfirmDialog
        opened={revoking !== null}
        title="Revoke this API key?"
        confirmLabel="Revoke key"
        testId="apikeys-revoke-confirm"
        onClose={() => setRevoking(null)}
        onConfirm={() => (revoking ? revoke(revoking) : Promise.resolve())}
      >
        Scripts that use “{revoking?.name}” stop working at once and cannot get it back. You can
        create a new key for them.
      </ConfirmDialog>
    </Stack>
  );
}
