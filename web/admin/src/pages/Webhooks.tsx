// Webhooks: the URLs that smmhub POSTs video and batch events to, a form that
// registers one and shows its signing secret once, test pings, deliveries
// and deletion with confirmation.
import {
  Badge,
  Button,
  Checkbox,
  Group,
  Paper,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useEffect, useRef, useState } from "react";
import type { FormEvent } from "react";

import {
  createWebhook,
  deleteWebhook,
  deliveriesPath,
  testWebhook,
  webhookEvents,
} from "../api/account";
import type { NewWebhook, Webhook, WebhookDelivery, WebhookEvent } from "../api/account";
import { describeError } from "../api/client";
import { ConfirmDialog } from "../components/AdminConfirm";
import { SecretOnce } from "../components/AdminSecrets";
import { Dialog } from "../components/Dialog";
import { formatCount, formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";

const webhooksPath = "/api/v1/webhooks";

const eventLabels: Record<WebhookEvent, string> = {
  "video.completed": "video.completed: a video rendered",
  "video.failed": "video.failed: a video failed for good",
  "batch.completed": "batch.completed: the last video of a batch ended",
};

function describeEvents(events: string[]): string {
  return events.includes("*") ? "All events" : events.join(", ");
}

function CreateWebhookModal({
  opened,
  onClose,
  onCreated,
}: {
  opened: boolean;
  onClose: () => void;
  onCreated: (webhook: NewWebhook) => void;
}) {
  const [url, setUrl] = useState("");
  const [allEvents, setAllEvents] = useState(true);
  const [events, setEvents] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [created, setCreated] = useState<NewWebhook | null>(null);

  function close() {
    if (busy) {
      return;
    }
    setUrl("");
    setAllEvents(true);
    setEvents([]);
    setError(null);
    setCreated(null);
    onClose();
  }

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!allEvents && events.length === 0) {
      setError(new Error("Choose at least one event, or all events."));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const webhook = await createWebhook(url.trim(), allEvents ? [] : (events as WebhookEvent[]));
      setCreated(webhook);
      onCreated(webhook);
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
      title={created ? "Webhook added" : "Add a webhook"}
      size="lg"
      closeOnClickOutside={!created}
    >
      {created ? (
        <Stack gap="md">
          <Text size="sm">
            smmhub now POSTs {describeEvents(created.events).toLowerCase()} to{" "}
            <code>{created.url}</code>.
          </Text>
          <SecretOnce label="Signing secret" secret={created.secret} testId="webhooks-secret">
            Your receiver checks the <code>X-Smmhub-Signature</code> header of each delivery with
            it, as the API guide describes.
          </SecretOnce>
          <Button onClick={close} style={{ alignSelf: "flex-end" }}>
            I have stored the secret
          </Button>
        </Stack>
      ) : (
        <form onSubmit={submit}>
          <Stack gap="md">
            {error ? <ErrorAlert error={error} title="Could not add the webhook" /> : null}
            <TextInput
              label="URL"
              description="An https address of your server, without a user name or password."
              placeholder="https://example.com/hooks/smmhub"
              type="url"
              required
              data-autofocus
              value={url}
              onChange={(event) => setUrl(event.currentTarget.value)}
            />
            <Checkbox
              label="All events, including types added later"
              checked={allEvents}
              onChange={(event) => setAllEvents(event.currentTarget.checked)}
            />
            {allEvents ? null : (
              <Checkbox.Group label="Events" value={events} onChange={setEvents} withAsterisk>
                <Stack gap="xs" mt="xs">
                  {webhookEvents.map((type) => (
                    <Checkbox key={type} value={type} label={eventLabels[type]} />
                  ))}
                </Stack>
              </Checkbox.Group>
            )}
            <Button type="submit" loading={busy} style={{ alignSelf: "flex-start" }}>
              Add webhook
            </Button>
          </Stack>
        </form>
      )}
    </Dialog>
  );
}

const stateColors: Record<string, string> = {
  pending: "yellow",
  delivered: "teal",
  failed: "red",
};

// The last attempt's HTTP status, where 0 means that no reply came back.
function describeStatus(delivery: WebhookDelivery): string {
  if (delivery.last_status) {
    return String(delivery.last_status);
  }
  return delivery.attempts > 0 ? "No reply" : "—";
}

function describeWhen(delivery: WebhookDelivery): string {
  if (delivery.state === "delivered") {
    return formatTime(delivery.delivered_at_ms ?? 0);
  }
  if (delivery.state === "pending") {
    return `Next try ${formatTime(delivery.next_try_at_ms ?? 0)}`;
  }
  return "Gave up after the last attempt";
}

function Deliveries({ webhook, reloadKey }: { webhook: Webhook; reloadKey: number }) {
  const deliveries = useResource<{ deliveries: WebhookDelivery[] }>(deliveriesPath(webhook.id));
  const { reload, data } = deliveries;

  const handledKey = useRef(reloadKey);
  useEffect(() => {
    if (reloadKey !== handledKey.current) {
      handledKey.current = reloadKey;
      void reload();
    }
  }, [reloadKey, reload]);

  // A pending delivery due within a minute is checked again every 3 s, so
  // that a test ping shows its result without a manual refresh.
  const dueSoon = (data?.deliveries ?? []).some(
    (delivery) =>
      delivery.state === "pending" && (delivery.next_try_at_ms ?? 0) < Date.now() + 60_000,
  );
  useEffect(() => {
    if (!dueSoon) {
      return;
    }
    const timer = window.setTimeout(() => void reload(), 3000);
    return () => window.clearTimeout(timer);
  }, [dueSoon, data, reload]);

  let body;
  if (deliveries.error && !data) {
    body = (
      <ErrorAlert
        error={deliveries.error}
        title="Could not load the deliveries"
        onRetry={() => void reload()}
      />
    );
  } else if (!data) {
    body = <Loading label="Loading deliveries" />;
  } else if (data.deliveries.length === 0) {
    body = (
      <Text size="sm" c="dimmed">
        No deliveries yet. Events that happen from now on appear here, and “Send test” queues
        a ping.
      </Text>
    );
  } else {
    body = (
      <Table.ScrollContainer minWidth={1080}>
        <Table
          striped
          aria-label={`Deliveries to ${webhook.url}`}
          data-testid="webhooks-deliveries"
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Event</Table.Th>
              <Table.Th scope="col">State</Table.Th>
              <Table.Th scope="col" ta="right">
                Attempts
              </Table.Th>
              <Table.Th scope="col" ta="right">
                Last status
              </Table.Th>
              <Table.Th scope="col">Last error</Table.Th>
              <Table.Th scope="col">Created</Table.Th>
              <Table.Th scope="col">Delivered or next try</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {data.deliveries.map((delivery) => (
              <Table.Tr key={delivery.id} data-testid="webhooks-delivery-row">
                <Table.Td>
                  <Text size="sm">{delivery.event_type}</Text>
                  <Text size="xs" c="dimmed">
                    {delivery.event_id}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge
                    color={stateColors[delivery.state] ?? "gray"}
                    variant="light"
                    miw="fit-content"
                  >
                    {delivery.state}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right">{formatCount(delivery.attempts)}</Table.Td>
                <Table.Td ta="right">{describeStatus(delivery)}</Table.Td>
                <Table.Td miw={260} maw={360} style={{ wordBreak: "break-word" }}>
                  {delivery.last_error || "—"}
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>
                  {formatTime(delivery.created_at_ms ?? 0)}
                </Table.Td>
                <Table.Td style={{ whiteSpace: "nowrap" }}>{describeWhen(delivery)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    );
  }

  return (
    <Paper withBorder radius="md" p="md" component="section" aria-labelledby="webhook-deliveries">
      <Stack gap="sm">
        <Group justify="space-between" wrap="wrap" gap="sm">
          <Stack gap={0}>
            <Title order={2} size="h5" id="webhook-deliveries">
              Deliveries
            </Title>
            <Text size="xs" c="dimmed" style={{ wordBreak: "break-all" }}>
              {webhook.url}, newest first
            </Text>
          </Stack>
          <Button
            variant="default"
            size="xs"
            onClick={() => void reload()}
            loading={deliveries.loading && !!data}
          >
            Refresh
          </Button>
        </Group>
        {body}
      </Stack>
    </Paper>
  );
}

function WebhookTable({
  webhooks,
  selected,
  testing,
  onSelect,
  onTest,
  onDelete,
}: {
  webhooks: Webhook[];
  selected: string | null;
  testing: string | null;
  onSelect: (webhook: Webhook) => void;
  onTest: (webhook: Webhook) => void;
  onDelete: (webhook: Webhook) => void;
}) {
  return (
    <Table.ScrollContainer minWidth={520}>
      <Table highlightOnHover data-testid="webhooks-list" aria-label="Webhooks">
        <Table.Thead>
          <Table.Tr>
            <Table.Th scope="col">URL and actions</Table.Th>
            <Table.Th scope="col">Events</Table.Th>
            <Table.Th scope="col">Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {webhooks.map((webhook) => (
            <Table.Tr
              key={webhook.id}
              data-testid="webhooks-row"
              bg={selected === webhook.id ? "var(--mantine-color-indigo-light)" : undefined}
            >
              <Table.Td style={{ wordBreak: "break-all" }}>
                <Text size="sm" fw={500}>
                  {webhook.url}
                </Text>
                <Group gap={4} wrap="wrap" ml={-10} mt={2}>
                  <Button
                    size="xs"
                    variant={selected === webhook.id ? "light" : "subtle"}
                    aria-pressed={selected === webhook.id}
                    aria-label={`Deliveries of ${webhook.url}`}
                    onClick={() => onSelect(webhook)}
                  >
                    Deliveries
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    loading={testing === webhook.id}
                    aria-label={`Send a test event to ${webhook.url}`}
                    onClick={() => onTest(webhook)}
                    data-testid="webhooks-test"
                  >
                    Send test
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    aria-label={`Delete ${webhook.url}`}
                    onClick={() => onDelete(webhook)}
                  >
                    Delete
                  </Button>
                </Group>
              </Table.Td>
              <Table.Td>{describeEvents(webhook.events)}</Table.Td>
              <Table.Td style={{ whiteSpace: "nowrap" }}>
                {formatTime(webhook.created_at_ms)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

// The request of the webhook list, asked for at a click on its link.
export function preload(): string[] {
  return [webhooksPath];
}

export default function WebhooksPage() {
  const webhooks = useResource<{ webhooks: Webhook[] }>(webhooksPath);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<Webhook | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const [reloadKey, setReloadKey] = useState(0);

  const list = webhooks.data?.webhooks ?? [];
  const selectedWebhook = list.find((webhook) => webhook.id === selected) ?? null;

  async function sendTest(webhook: Webhook) {
    setTesting(webhook.id);
    try {
      await testWebhook(webhook.id);
      notifications.show({
        color: "teal",
        title: "Test event queued",
        message: "smmhub sends a ping within a few seconds; its result appears under Deliveries.",
      });
      setSelected(webhook.id);
      setReloadKey((key) => key + 1);
    } catch (caught) {
      notifications.show({
        color: "red",
        title: "Could not send a test event",
        message: describeError(caught),
      });
    } finally {
      setTesting(null);
    }
  }

  async function remove(webhook: Webhook) {
    await deleteWebhook(webhook.id);
    webhooks.setData({ webhooks: list.filter((item) => item.id !== webhook.id) });
    if (selected === webhook.id) {
      setSelected(null);
    }
    notifications.show({ color: "teal", message: `Deleted the webhook to ${webhook.url}.` });
  }

  let body;
  if (webhooks.error) {
    body = (
      <ErrorAlert
        error={webhooks.error}
        title="Could not load the webhooks"
        onRetry={() => void webhooks.reload()}
      />
    );
  } else if (!webhooks.data) {
    body = <Loading label="Loading webhooks" />;
  } else if (list.length === 0) {
    body = (
      <EmptyState
        title="No webhooks yet"
        action={
          <Button variant="light" onClick={() => setCreating(true)}>
            Add the first webhook
          </Button>
        }
      >
        A webhook lets your own server hear about finished videos and batches as they happen,
        instead of asking the API again and again.
      </EmptyState>
    );
  } else {
    body = (
      <Stack gap="md">
        <WebhookTable
          webhooks={list}
          selected={selected}
          testing={testing}
          onSelect={(webhook) => setSelected(selected === webhook.id ? null : webhook.id)}
          onTest={(webhook) => void sendTest(webhook)}
          onDelete={setDeleting}
        />
        {selectedWebhook ? (
          <Deliveries key={selectedWebhook.id} webhook={selectedWebhook} reloadKey={reloadKey} />
        ) : (
          <Text size="sm" c="dimmed">
            Choose “Deliveries” on a webhook to see what was sent and how its server replied.
          </Text>
        )}
      </Stack>
    );
  }

  return (
    <Stack gap="lg">
      <PageHeader
        title="Webhooks"
        description="smmhub POSTs an event to each URL when a video or a batch finishes."
        actions={
          <Button onClick={() => setCreating(true)} data-testid="webhooks-create">
            Add webhook
          </Button>
        }
      />
      {body}
      <CreateWebhookModal
        opened={creating}
        onClose={() => setCreating(false)}
        onCreated={(webhook) => {
          const { secret: _secret, ...stored } = webhook;
          webhooks.setData({ webhooks: [...list, stored] });
        }}
      />
      <ConfirmDialog
        opened={deleting !== null}
        title="Delete this webhook?"
        confirmLabel="Delete webhook"
        testId="webhooks-delete-confirm"
        onClose={() => setDeleting(null)}
        onConfirm={() => (deleting ? remove(deleting) : Promise.resolve())}
      >
        smmhub stops sending events to <code>{deleting?.url}</code>. Its deliveries are deleted
        too, and pending ones are never sent.
      </ConfirmDialog>
    </Stack>
  );
}
