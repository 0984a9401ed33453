// A confirmation dialog for actions that cannot be undone, such as revoking
// a key, deleting a webhook or adding credits.
import { Button, Group, Stack, Text } from "@mantine/core";
import { useState } from "react";
import type { ReactNode } from "react";

import { Dialog } from "./Dialog";
import { ErrorAlert } from "./states";

export function ConfirmDialog({
  opened,
  title,
  children,
  confirmLabel,
  color = "red",
  onConfirm,
  onClose,
  testId,
}: {
  opened: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  color?: string;
  // Runs the action; a thrown error stays in the dialog so that it can be retried.
  onConfirm: () => Promise<void>;
  onClose: () => void;
  testId?: string;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  function close() {
    if (!busy) {
      setError(null);
      onClose();
    }
  }

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      onClose();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog opened={opened} onClose={close} title={title} centered>
      <Stack gap="md">
        <Text size="sm" component="div">
          {children}
        </Text>
        {error ? (
          <ErrorAlert error={error} title={`Could not ${confirmLabel.toLowerCase()}`} />
        ) : null}
        <Group justify="flex-end" gap="sm">
          {/* Focus starts on Cancel, so that a stray Enter changes nothing. */}
          <Button variant="default" onClick={close} disabled={busy} data-autofocus>
            Cancel
          </Button>
          <Button color={color} loading={busy} onClick={() => void confirm()} data-testid={testId}>
            {confirmLabel}
          </Button>
        </Group>
      </Stack>
    </Dialog>
  );
}
