// Sign-in: email and password, with the server's reason when it refuses.
import { Button, Container, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState } from "react";
import type { FormEvent } from "react";

import { ErrorAlert } from "../components/states";
import { useSession } from "../session";

export function SignInPage() {
  const { signIn } = useSession();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Container size={420} py={64}>
      <Stack gap="lg">
        <Stack gap={4}>
          <Title order={1} size="h2">
            Sign in to smmhub
          </Title>
          <Text c="dimmed" size="sm">
            Your agency's videos, brand kits and templates.
          </Text>
        </Stack>
        <Paper withBorder p="lg" radius="md" component="form" onSubmit={submit} noValidate={false}>
          <Stack gap="md">
            {error ? <ErrorAlert error={error} title="Could not sign in" /> : null}
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              required
              autoFocus
              value={email}
              onChange={(event) => setEmail(event.currentTarget.value)}
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.currentTarget.value)}
            />
            <Button type="submit" loading={busy} fullWidth>
              Sign in
            </Button>
          </Stack>
        </Paper>
        <Text c="dimmed" size="xs">
          No account yet? An owner of your agency adds you under Team, or a platform administrator
          creates your agency.
        </Text>
      </Stack>
    </Container>
  );
}
