// A tenant's credits on the platform administrators' tenant page: the
// balance and a top-up form that confirms before it adds credits.
import { Alert, Button, Group, NumberInput, Paper, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import type { FormEvent } from "react";

import { maxTopUp, tenantCreditsPath, topUpTenant } from "../api/account";
import type { Credits, Tenant, TopUp } from "../api/account";
import { idempotencyKey } from "../api/client";
import { ConfirmDialog } from "./AdminConfirm";
import { formatCount } from "./format";
import { useResource } from "./resource";
import { ErrorAlert, Loading } from "./states";

function BalanceView({ tenant }: { tenant: Tenant }) {
  const credits = useResource<Credits>(tenantCreditsPath(tenant.id));

  if (credits.data) {
    return (
      <Stack gap={2}>
        <Text size="xs" c="dimmed">
          Available credits
        </Text>
        <Text
          fw={700}
          size="xl"
          data-testid="admin-tenant-balance"
          data-available={credits.data.available}
        >
          {formatCount(credits.data.available)}
        </Text>
        <Text size="xs" c="dimmed">
          {formatCount(credits.data.held)} held for running batches;{" "}
          {formatCount(credits.data.video_price)} credits per video
        </Text>
      </Stack>
    );
  }
  if (credits.loading) {
    return <Loading label="Loading the balance" />;
  }
  if (credits.error) {
    return (
      <ErrorAlert
        error={credits.error}
        title="Could not load the balance"
        onRetry={() => void credits.reload()}
      />
    );
  }
  return <Loading label="Loading the balance" />;
}

export function AdminTenantCredits({ tenant }: { tenant: Tenant }) {
  const [amount, setAmount] = useState<string | number>("");
  const [confirming, setConfirming] = useState<{ amount: number; key: string } | null>(null);
  const [receipt, setReceipt] = useState<TopUp | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  // A new key per confirmed top-up makes the balance reload after it.
  const [balanceKey, setBalanceKey] = useState(0);

  function submit(event: FormEvent) {
    event.preventDefault();
    const value = typeof amount === "number" ? amount : Number(amount);
    if (!Number.isInteger(value) || value < 1 || value > maxTopUp) {
      setInvalid(`Enter a whole number of credits from 1 to ${formatCount(maxTopUp)}.`);
      return;
    }
    setInvalid(null);
    // One key per confirmed action: retrying after a lost response adds once.
    setConfirming({ amount: value, key: idempotencyKey() });
  }

  async function topUp() {
    if (!confirming) {
      return;
    }
    const result = await topUpTenant(tenant.id, confirming.amount, confirming.key);
    setReceipt(result);
    setAmount("");
    setBalanceKey((key) => key + 1);
    notifications.show({
      color: result.replayed ? "yellow" : "teal",
      title: result.replayed ? "This top-up was already made" : "Credits added",
      message: result.replayed
        ? `Nothing more was added. ${tenant.name} has ${formatCount(result.available)} credits.`
        : `Added ${formatCount(result.added)} credits to ${tenant.name}; ` +
          `${formatCount(result.available)} are available now.`,
    });
  }

  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="tenant-credits">
      <Stack gap="md">
        <Title order={2} size="h4" id="tenant-credits">
          Credits
        </Title>
        <BalanceView key={balanceKey} tenant={tenant} />
        <form onSubmit={submit} aria-label="Top up credits">
          <Group align="flex-end" gap="sm" wrap="wrap">
            <NumberInput
              label="Credits to add"
              description={`Whole credits, up to ${formatCount(maxTopUp)} at a time.`}
              min={1}
              max={maxTopUp}
              allowDecimal={false}
              allowNegative={false}
              thousandSeparator=","
              required
              value={amount}
              onChange={setAmount}
              error={invalid}
              data-testid="admin-topup-amount"
              w={{ base: "100%", xs: 240 }}
            />
            <Button type="submit" data-testid="admin-topup-submit">
              Top up
            </Button>
          </Group>
        </form>
        {receipt && !receipt.replayed ? (
          <Alert color="teal" variant="light" data-testid="admin-topup-result">
            Added {formatCount(receipt.added)} credits; {formatCount(receipt.available)} available.
          </Alert>
        ) : null}
      </Stack>
      <ConfirmDialog
        opened={confirming !== null}
        title="Add credits?"
        confirmLabel="Add credits"
        color="indigo"
        testId="admin-topup-confirm"
        onClose={() => setConfirming(null)}
        onConfirm={topUp}
      >
        Add <b>{formatCount(confirming?.amount ?? 0)}</b> credits to{" "}
        <b>{tenant.name}</b> ({tenant.id})? A top-up cannot be undone from this page.
      </ConfirmDialog>
    </Paper>
  );
}
