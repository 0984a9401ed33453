// Team: the users of the owner's agency, with a form that adds one, a role
// picker per user and disabling or enabling a user.
import {
  Alert,
  Badge,
  Button,
  NativeSelect,
  Stack,
  Table,
  Text,
  VisuallyHidden,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";

import { createUser, tenantRoles, updateUser } from "../api/account";
import type { TenantRole } from "../api/account";
import { ApiError, describeError } from "../api/client";
import type { User } from "../api/session";
import { ConfirmDialog } from "../components/AdminConfirm";
import { SecretOnce } from "../components/AdminSecrets";
import { AdminUserForm } from "../components/AdminUserForm";
import { Dialog } from "../components/Dialog";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

const usersPath = "/api/v1/users";

// A pending change that needs confirmation first.
type Pending =
  | { kind: "role"; user: User; role: TenantRole }
  | { kind: "disable"; user: User };

function isLastOwnerError(error: unknown): boolean {
  return error instanceof ApiError && error.code === "failed_precondition";
}

function AddUserModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (user: User) => void;
}) {
  const [created, setCreated] = useState<{ user: User; password: string } | null>(null);

  function close() {
    setCreated(null);
    onClose();
  }

  return (
    <Dialog
      opened={opened}
      onClose={close}
      title={created ? `${created.user.email} can sign in now` : "Add a user"}
      size="lg"
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack gap="md">
          <SecretOnce label="Initial password" secret={created.password} testId="team-password">
            Pass it to {created.user.name || created.user.email} privately, not in the same
            message as the email address.
          </SecretOnce>
          <Button onClick={close} style={{ alignSelf: "flex-end" }}>
            Done
          </Button>
        </Stack>
      ) : (
        <AdminUserForm
          defaultRole="editor"
          submitLabel="Add user"
          testId="team-add-form"
          onSubmit={createUser}
          onCreated={(user, password) => {
            setCreated({ user, password });
            onCreated(user);
          }}
        />
      )}
    </Dialog>
  );
}

function UserTable({
  users,
  myId,
  busy,
  onRole,
  onDisabled,
}: {
  users: User[];
  myId: string | undefined;
  busy: string | null;
  onRole: (user: User, role: TenantRole) => void;
  onDisabled: (user: User, disabled: boolean) => void;
}) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table striped highlightOnHover data-testid="team-list" aria-label="Users of your agency">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Email</Table.Th>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
            <Table.Th scope="col">Added</Table.Th>
            <Table.Th scope="col">
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((user) => (
            <Table.Tr key={user.id} data-testid="team-row" data-email={user.email}>
              <Table.Td>
                <Text size="sm" fw={500} c={user.disabled ? "dimmed" : undefined}>
                  {user.email}
                  {user.id === myId ? (
                    <Text span size="xs" c="dimmed">
                      {" "}
                      (you)
                    </Text>
                  ) : null}
                </Text>
              </Table.Td>
              <Table.Td>{user.name || "—"}</Table.Td>
              <Table.Td>
                <NativeSelect
                  size="xs"
                  aria-label={`Role of ${user.email}`}
                  value={user.role}
                  disabled={busy === user.id}
                  data={tenantRoles}
                  onChange={(event) => onRole(user, event.currentTarget.value as TenantRole)}
                  w={110}
                />
              </Table.Td>
              <Table.Td>
                {user.disabled ? (
                  <Badge color="gray" variant="light" miw="fit-content">
                    Disabled
                  </Badge>
                ) : (
                  <Badge color="teal" variant="light" miw="fit-content">
                    Active
                  </Badge>
                )}
              </Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>{formatTime(user.created_at_ms)}</Table.Td>
              <Table.Td ta="right">
                <Button
                  size="xs"
                  variant="subtle"
                  color={user.disabled ? undefined : "red"}
                  loading={busy === user.id}
                  aria-label={`${user.disabled ? "Enable" : "Disable"} ${user.email}`}
                  onClick={() => onDisabled(user, !user.disabled)}
                >
                  {user.disabled ? "Enable" : "Disable"}
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

// The request of the team, asked for at a click on its link.
export function preload(): string[] {
  return [usersPath];
}

export default function TeamPage() {
  const { me } = useSession();
  const users = useResource<{ users: User[] }>(usersPath);
  const [adding, setAdding] = useState(false);
  const [pending, setPending] = useState<Pending | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [lastOwnerError, setLastOwnerError] = useState<string | null>(null);

  const list = users.data?.users ?? [];
  const myId = me?.user?.id;

  function replace(updated: User) {
    users.setData({ users: list.map((user) => (user.id === updated.id ? updated : user)) });
  }

  // Sends CHANGE for USER; a 409 for the last owner becomes the page's alert,
  // other errors a notification. Returns whether it succeeded.
  async function apply(
    user: User,
    change: { role?: TenantRole; disabled?: boolean },
  ): Promise<boolean> {
    setBusy(user.id);
    setLastOwnerError(null);
    try {
      const updated = await updateUser(user.id, change);
      replace(updated);
      const message =
        change.role !== undefined
          ? `${updated.email} is now ${updated.role === "owner" ? "an" : "a"} ${updated.role}.`
          : updated.disabled
            ? `${updated.email} is disabled and signed out everywhere.`
            : `${updated.email} can sign in again.`;
      notifications.show({ color: "teal", message });
      return true;
    } catch (caught) {
      if (isLastOwnerError(caught)) {
        setLastOwnerError(user.email);
      } else {
        notifications.show({
          color: "red",
          title: `Could not change ${user.email}`,
          message: describeError(caught),
        });
      }
      return false;
    } finally {
      setBusy(null);
    }
  }

  async function confirmPending() {
    if (!pending) {
      return;
    }
    const ok =
      pending.kind === "role"
        ? await apply(pending.user, { role: pending.role })
        : await apply(pending.user, { disabled: true });
    // Demoting yourself takes away this page, so reload what the app shows.
    if (ok && pending.kind === "role" && pending.user.id === myId) {
      window.location.assign("/");
    }
  }

  function changeRole(user: User, role: TenantRole) {
    if (role === user.role) {
      return;
    }
    if (user.id === myId && role !== "owner") {
      setPending({ kind: "role", user, role });
      return;
    }
    void apply(user, { role });
  }

  function changeDisabled(user: User, disabled: boolean) {
    if (disabled) {
      setPending({ kind: "disable", user });
    } else {
      void apply(user, { disabled: false });
    }
  }

  let body;
  if (users.error) {
    body = (
      <ErrorAlert
        error={users.error}
        title="Could not load the users"
        onRetry={() => void users.reload()}
      />
    );
  } else if (!users.data) {
    body = <Loading label="Loading users" />;
  } else if (list.length === 0) {
    body = (
      <EmptyState
        title="No users yet"
        action={
          <Button variant="light" onClick={() => setAdding(true)}>
            Add the first user
          </Button>
        }
      />
    );
  } else {
    body = (
      <UserTable
        users={list}
        myId={myId}
        busy={busy}
        onRole={changeRole}
        onDisabled={changeDisabled}
      />
    );
  }

  const pendingSelf = pending?.user.id === myId;
  return (
    <Stack gap="lg">
      <PageHeader
        title="Team"
        description="Owners manage users, API keys and webhooks; editors make videos; viewers read."
        actions={
          <Button onClick={() => setAdding(true)} data-testid="team-add">
            Add user
          </Button>
        }
      />
      {lastOwnerError ? (
        <Alert
          color="orange"
          title="Your agency needs an enabled owner"
          role="alert"
          withCloseButton
          closeButtonLabel="Dismiss"
          onClose={() => setLastOwnerError(null)}
          data-testid="team-last-owner"
        >
          {lastOwnerError} is the last enabled owner, so smmhub kept the role and the account as
          they were. Make another user an owner first, then change {lastOwnerError}.
        </Alert>
      ) : null}
      {body}
      <AddUserModal
        opened={adding}
        onClose={() => setAdding(false)}
        onCreated={(user) =>
          users.setData({
            users: [...list, user].sort((a, b) => a.email.localeCompare(b.email)),
          })
        }
      />
      <ConfirmDialog
        opened={pending !== null}
        title={
          pending?.kind === "disable"
            ? `Disable ${pending.user.email}?`
            : `Make yourself ${pending?.kind === "role" ? pending.role : ""}?`
        }
        confirmLabel={pending?.kind === "disable" ? "Disable user" : "Change my role"}
        onClose={() => setPending(null)}
        onConfirm={confirmPending}
      >
        {pending?.kind === "disable"
          ? pendingSelf
            ? "You are signed out at once and cannot sign in again until another owner enables you."
            : "The user is signed out everywhere and cannot sign in until an owner enables them. " +
              "API keys they created keep working; revoke those under API keys."
          : "You lose access to Team, API keys and Webhooks as soon as the change is made."}
      </ConfirmDialog>
    </Stack>
  );
}
