// Tenants, for platform administrators: every agency, a form that creates
// one, and a tenant's page with its users and credits (/admin/tenants/:id).
import {
  Anchor,
  Badge,
  Button,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import type { FormEvent } from "react";
import { Link, useLocation, useParams } from "wouter";

import {
  createTenant,
  createTenantUser,
  tenantIdPattern,
  tenantPath,
  tenantUsersPath,
} from "../api/account";
import type { NewUser, Tenant } from "../api/account";
import { ApiError } from "../api/client";
import type { User } from "../api/session";
import { SecretOnce } from "../components/AdminSecrets";
import { AdminTenantCredits } from "../components/AdminTenantCredits";
import { AdminUserForm } from "../components/AdminUserForm";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";

const tenantsPath = "/api/v1/admin/tenants";

function CreateTenantForm({ onCreated }: { onCreated: (tenant: Tenant) => void }) {
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  const idInvalid = id.length > 0 && !tenantIdPattern.test(id);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!tenantIdPattern.test(id)) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      onCreated(await createTenant(id, name.trim()));
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const idTaken = error instanceof ApiError && error.code === "conflict";
  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="tenant-create">
      <form onSubmit={submit} data-testid="admin-tenant-create">
        <Stack gap="sm">
          <Title order={2} size="h4" id="tenant-create">
            Create a tenant
          </Title>
          {error ? (
            <ErrorAlert
              error={error}
              title={idTaken ? `The id “${id}” is taken` : "Could not create the tenant"}
            />
          ) : null}
          <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="sm">
            <TextInput
              label="Id"
              description="1 to 64 letters, digits, - or _; it cannot change later."
              placeholder="acme"
              required
              autoComplete="off"
              value={id}
              error={idInvalid ? "Use only letters, digits, - and _, at most 64." : undefined}
              onChange={(event) => setId(event.currentTarget.value.trim())}
            />
            <TextInput
              label="Name"
              description="The agency's name as its users see it."
              placeholder="Acme Media"
              required
              autoComplete="off"
              value={name}
              onChange={(event) => setName(event.currentTarget.value)}
            />
          </SimpleGrid>
          <Button type="submit" loading={busy} style={{ alignSelf: "flex-start" }}>
            Create tenant
          </Button>
        </Stack>
      </form>
    </Paper>
  );
}

function TenantList() {
  const [, navigate] = useLocation();
  const tenants = useResource<{ tenants: Tenant[] }>(tenantsPath);

  let body;
  if (tenants.error) {
    body = (
      <ErrorAlert
        error={tenants.error}
        title="Could not load the tenants"
        onRetry={() => void tenants.reload()}
      />
    );
  } else if (!tenants.data) {
    body = <Loading label="Loading tenants" />;
  } else if (tenants.data.tenants.length === 0) {
    body = (
      <EmptyState title="No tenants yet">
        Create the first agency above, then add its first owner on its page.
      </EmptyState>
    );
  } else {
    body = (
      <Table.ScrollContainer minWidth={560}>
        <Table striped highlightOnHover data-testid="admin-tenants-list" aria-label="Tenants">
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Id</Table.Th>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Created</Table.Th>
              <Table.Th scope="col">Status</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tenants.data.tenants.map((tenant) => (
              <Table.Tr key={tenant.id} data-testid="admin-tenants-row" data-tenant={tenant.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/admin/tenants/${encodeURIComponent(tenant.id)}`}>
                    {tenant.id}
                  </Anchor>
                </Table.Td>
                <Table.Td>{tenant.name}</Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  {formatTime(tenant.created_at_ms)}
                </Table.Td>
                <Table.Td>
                  {tenant.disabled ? (
                    <Badge color="gray" variant="light" miw="fit-content">
                      Disabled
                    </Badge>
                  ) : (
                    <Badge color="teal" variant="light" miw="fit-content">
                      Active
                    </Badge>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }

  return (
    <Stack gap="lg">
      <PageHeader
        title="Tenants"
        description="Every agency on this smmhub. Open one to add its users and credits."
      />
      <CreateTenantForm
        onCreated={(tenant) => {
          notifications.show({
            color: "teal",
            message: `Created ${tenant.name}. Add its first owner now.`,
          });
          navigate(`/admin/tenants/${encodeURIComponent(tenant.id)}`);
        }}
      />
      {body}
    </Stack>
  );
}

function UserRows({ users }: { users: User[] }) {
  return (
    <Table.ScrollContainer minWidth={420}>
      <Table striped aria-label="Users of the tenant" data-testid="admin-tenant-users">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">Email</Table.Th>
            <Table.Th scope="col">Name</Table.Th>
            <Table.Th scope="col">Role</Table.Th>
            <Table.Th scope="col">Status</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {users.map((user) => (
            <Table.Tr key={user.id} data-testid="admin-tenant-user-row">
              <Table.Td>{user.email}</Table.Td>
              <Table.Td>{user.name || "—"}</Table.Td>
              <Table.Td>{user.role}</Table.Td>
              <Table.Td>{user.disabled ? "Disabled" : "Active"}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

function TenantUsers({ tenant }: { tenant: Tenant }) {
  const listed = useResource<{ users: User[] }>(tenantUsersPath(tenant.id));
  const [added, setAdded] = useState<User[]>([]);
  const [created, setCreated] = useState<{ user: User; password: string } | null>(null);

  // Users added here show at once, before the list is fetched again.
  const known = listed.data?.users ?? [];
  const users = [...known, ...added.filter((user) => !known.some((other) => other.id === user.id))];

  let list;
  if (listed.error) {
    list = (
      <ErrorAlert
        error={listed.error}
        title="Could not load the users"
        onRetry={() => void listed.reload()}
      />
    );
  } else if (listed.loading && !listed.data) {
    list = <Loading label="Loading users" />;
  } else if (users.length > 0) {
    list = <UserRows users={users} />;
  } else {
    list = (
      <Text size="sm" c="dimmed">
        No users yet. Add the first owner below.
      </Text>
    );
  }

  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="tenant-users">
      <Stack gap="md">
        <Title order={2} size="h4" id="tenant-users">
          Users
        </Title>
        {list}
        {created ? (
          <Stack gap="sm">
            <SecretOnce
              label="Initial password"
              secret={created.password}
              testId="admin-user-password"
            >
              Pass it to {created.user.email} privately. They can then add the rest of their team
              under Team.
            </SecretOnce>
            <Button
              variant="default"
              onClick={() => setCreated(null)}
              style={{ alignSelf: "flex-start" }}
            >
              Add another user
            </Button>
          </Stack>
        ) : (
          <>
            <Title order={3} size="h5">
              Add a user
            </Title>
            <Text size="sm" c="dimmed">
              A new agency needs an owner first; owners add everyone else under Team.
            </Text>
            <AdminUserForm
              defaultRole="owner"
              submitLabel="Add user"
              testId="admin-user-form"
              onSubmit={(user: NewUser) => createTenantUser(tenant.id, user)}
              onCreated={(user, password) => {
                setAdded((list) => [...list, user]);
                setCreated({ user, password });
              }}
            />
          </>
        )}
      </Stack>
    </Paper>
  );
}

function TenantPage({ id }: { id: string }) {
  const tenant = useResource<Tenant>(tenantPath(id));

  const back = (
    <Anchor component={Link} href="/admin/tenants" size="sm">
      ← All tenants
    </Anchor>
  );
  if (tenant.error) {
    const missing = tenant.error instanceof ApiError && tenant.error.status === 404;
    return (
      <Stack gap="md">
        {back}
        {missing ? (
          <EmptyState title={`No tenant has the id “${id}”`}>
            It may be mistyped. Pick a tenant from the list.
          </EmptyState>
        ) : (
          <ErrorAlert
            error={tenant.error}
            title="Could not load the tenant"
            onRetry={() => void tenant.reload()}
          />
        )}
      </Stack>
    );
  }
  if (!tenant.data) {
    return <Loading label="Loading the tenant" />;
  }

  const data = tenant.data;
  return (
    <Stack gap="lg">
      <Stack gap={4}>
        {back}
        <PageHeader
          title={data.name}
          description={
            <>
              Id <code>{data.id}</code>, created {formatTime(data.created_at_ms)}
              {data.disabled ? "; disabled" : ""}
            </>
          }
        />
      </Stack>
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="lg">
        <AdminTenantCredits tenant={data} />
        <TenantUsers tenant={data} />
      </SimpleGrid>
    </Stack>
  );
}

// The request of the tenant list, asked for at a click on its link.
export function preload(): string[] {
  return [tenantsPath];
}

export default function AdminTenantsPage() {
  const params = useParams<{ id?: string }>();
  return params.id ? <TenantPage id={params.id} /> : <TenantList />;
}
