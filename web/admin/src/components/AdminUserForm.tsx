// The form that adds a user to a tenant: email, name, role and an initial
// password. The Team page and the platform administrators' tenant page use it.
import { Button, NativeSelect, Stack, TextInput } from "@mantine/core";
import { useState } from "react";
import type { FormEvent } from "react";

import { minPasswordLength, roleDescriptions, tenantRoles } from "../api/account";
import type { NewUser, TenantRole } from "../api/account";
import { ApiError } from "../api/client";
import type { User } from "../api/session";
import { NewPasswordInput } from "./AdminSecrets";
import { ErrorAlert } from "./states";

export function AdminUserForm({
  defaultRole,
  submitLabel,
  onSubmit,
  onCreated,
  testId,
}: {
  defaultRole: TenantRole;
  submitLabel: string;
  onSubmit: (user: NewUser) => Promise<User>;
  onCreated: (user: User, password: string) => void;
  testId?: string;
}) {
  const [email, setEmail] = useState("");
  const [name, setName] = useState("");
  const [role, setRole] = useState<TenantRole>(defaultRole);
  const [password, setPassword] = useState("");
  const [passwordVisible, setPasswordVisible] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (password.length < minPasswordLength) {
      setError(new Error(`The password needs at least ${minPasswordLength} characters.`));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const user = await onSubmit({ email: email.trim(), name: name.trim(), role, password });
      onCreated(user, password);
      setEmail("");
      setName("");
      setPassword("");
      setPasswordVisible(false);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const emailTaken = error instanceof ApiError && error.code === "conflict";
  return (
    <form onSubmit={submit} data-testid={testId} aria-label={submitLabel}>
      <Stack gap="sm">
        {error ? (
          <ErrorAlert
            error={error}
            title={emailTaken ? "This email already has an account" : "Could not add the user"}
          />
        ) : null}
        <TextInput
          label="Email"
          type="email"
          autoComplete="off"
          required
          value={email}
          onChange={(event) => setEmail(event.currentTarget.value)}
        />
        <TextInput
          label="Name"
          description="Optional; shown beside the email."
          autoComplete="off"
          value={name}
          onChange={(event) => setName(event.currentTarget.value)}
        />
        <NativeSelect
          label="Role"
          value={role}
          onChange={(event) => setRole(event.currentTarget.value as TenantRole)}
          data={tenantRoles.map((value) => ({ value, label: roleDescriptions[value] }))}
        />
        <NewPasswordInput
          value={password}
          onChange={setPassword}
          visible={passwordVisible}
          onVisibleChange={setPasswordVisible}
        />
        <Button type="submit" loading={busy} style={{ alignSelf: "flex-start" }}>
          {submitLabel}
        </Button>
      </Stack>
    </form>
  );
}
