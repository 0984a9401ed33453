// The live frame preview of a saved template: a brand kit, a row (typed values
// or a campaign's row) and a time give one PNG that a worker renders through
// POST /api/v1/previews. Stale requests are cancelled, and the last frame stays
// on screen until the next one arrives.
import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Center,
  Group,
  Loader,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Slider,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Link } from "wouter";

import { ApiError, describeError } from "../api/client";
import { renderPreview } from "../api/templates";
import type {
  BrandKitSummary,
  CampaignSummary,
  PreviewRequest,
  TemplateBody,
} from "../api/templates";
import { useResource } from "./resource";
import { ErrorAlert } from "./states";
import { formatSeconds, timelineOf } from "./TemplateText";
import type { Timeline } from "./TemplateText";

type RowSource = "values" | "campaign";

const noBrandKit = "none";

const placeholders: Record<string, string> = {
  date: "2024-08-17",
  time: "15:00",
  color: "#C8102E",
  number: "1",
  image: "a file path or an https:// URL",
};

// Describes a failed preview for the user, with the next step.
function previewProblem(error: unknown): { title: string; text: string } {
  if (!(error instanceof ApiError)) {
    return { title: "The preview failed", text: describeError(error) };
  }
  switch (error.code) {
    case "preview_timeout":
      return {
        title: "No worker answered",
        text:
          `${error.message}. No render worker is running, or all are busy. Start one ` +
          "(smmhub-worker, or scripts/serve, which starts two), then press Try again.",
      };
    case "preview_failed":
      return {
        title: "The worker could not render this frame",
        text: `${error.message}. Change the row or the template; the preview updates by itself.`,
      };
    case "invalid_field":
      return { title: "The preview request is invalid", text: error.message };
    case "not_found":
      return {
        title: "Not found",
        text: `${error.message}. It may have been deleted; reload the page.`,
      };
    default:
      return { title: "The preview failed", text: describeError(error) };
  }
}

function sceneAt(timeline: Timeline, frame: number): string {
  const scene = timeline.scenes.find(
    (item) => frame >= item.startFrame && frame < item.startFrame + item.frames,
  );
  return scene?.name ?? "";
}

function ValuesForm({
  timeline,
  values,
  onChange,
}: {
  timeline: Timeline;
  values: Record<string, string>;
  onChange: (name: string, value: string) => void;
}) {
  const names = Object.keys(timeline.fields);
  if (names.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        The saved template declares no fields, so the frame needs no values.
      </Text>
    );
  }
  return (
    <SimpleGrid cols={{ base: 1, xs: 2 }} spacing="xs" verticalSpacing="xs">
      {names.map((name) => {
        const field = timeline.fields[name];
        return (
          <TextInput
            key={name}
            size="xs"
            label={name}
            description={`${field.type}${field.required ? ", required" : ""}`}
            placeholder={placeholders[field.type] ?? ""}
            value={values[name] ?? ""}
            onChange={(event) => onChange(name, event.currentTarget.value)}
          />
        );
      })}
    </SimpleGrid>
  );
}

function CampaignRowPicker({
  templateId,
  campaignId,
  row,
  onCampaign,
  onRow,
}: {
  templateId: string;
  campaignId: string | null;
  row: number;
  onCampaign: (campaign: CampaignSummary | null) => void;
  onRow: (row: number) => void;
}) {
  const campaigns = useResource<{ campaigns: CampaignSummary[] }>("/api/v1/campaigns");
  const list = campaigns.data?.campaigns ?? [];
  const chosen = list.find((campaign) => campaign.id === campaignId) ?? null;

  useEffect(() => {
    if (campaignId === null && list.length > 0) {
      onCampaign(list.find((campaign) => campaign.template_id === templateId) ?? list[0]);
    }
  }, [campaignId, list, templateId, onCampaign]);

  if (campaigns.error) {
    return (
      <ErrorAlert
        error={campaigns.error}
        title="Could not load the campaigns"
        onRetry={() => void campaigns.reload()}
      />
    );
  }
  if (campaigns.loading && !campaigns.data) {
    return <Loader size="sm" aria-label="Loading the campaigns" />;
  }
  if (list.length === 0) {
    return (
      <Text size="sm" c="dimmed">
        No campaigns yet. <Anchor component={Link} href="/campaigns">Create a campaign</Anchor> and
        upload its rows, or type values instead.
      </Text>
    );
  }
  return (
    <Stack gap="xs">
      <Group gap="xs" align="flex-end" wrap="wrap">
        <Select
          size="xs"
          label="Campaign"
          style={{ flex: "1 1 200px" }}
          data={list.map((campaign) => ({
            value: campaign.id,
            label:
              campaign.template_id === templateId
                ? `${campaign.name} (uses this template)`
                : campaign.name,
          }))}
          value={campaignId}
          allowDeselect={false}
          searchable
          onChange={(value) => onCampaign(list.find((campaign) => campaign.id === value) ?? null)}
        />
        <NumberInput
          size="xs"
          label="Row number"
          w={110}
          min={1}
          max={Math.max(1, chosen?.row_count ?? 1)}
          allowDecimal={false}
          allowNegative={false}
          clampBehavior="strict"
          disabled={!chosen || chosen.row_count === 0}
          value={row}
          onChange={(value) => onRow(typeof value === "number" && value >= 1 ? value : 1)}
        />
      </Group>
      {chosen && chosen.row_count === 0 ? (
        <Text size="sm" c="dimmed">
          This campaign has no rows yet. Upload them on the{" "}
          <Anchor component={Link} href={`/campaigns/${encodeURIComponent(chosen.id)}`}>
            campaign's page
          </Anchor>
          .
        </Text>
      ) : null}
      {chosen && chosen.row_count > 0 ? (
        <Text size="xs" c="dimmed">
          Row {row} of {chosen.row_count}, bound with the campaign's column mapping.
        </Text>
      ) : null}
    </Stack>
  );
}

export function TemplatePreview({
  templateId,
  savedVersion,
  savedBody,
  dirty,
  canPreview,
}: {
  templateId: string | null;
  savedVersion: number;
  savedBody: TemplateBody | undefined;
  dirty: boolean;
  canPreview: boolean;
}) {
  const timeline = useMemo(() => timelineOf(savedBody), [savedBody]);
  const active = canPreview && templateId !== null;
  const brandKits = useResource<{ brand_kits: BrandKitSummary[] }>(
    active ? "/api/v1/brand-kits" : null,
  );
  const [brandKitId, setBrandKitId] = useState<string | null>(null);
  const [source, setSource] = useState<RowSource>("values");
  const [values, setValues] = useState<Record<string, string>>({});
  const [campaignId, setCampaignId] = useState<string | null>(null);
  const [row, setRow] = useState(1);
  const [frame, setFrame] = useState(0);
  const [attempt, setAttempt] = useState(0);

  const chooseCampaign = useCallback((campaign: CampaignSummary | null) => {
    setCampaignId(campaign?.id ?? null);
    setRow(1);
  }, []);

  // A campaign row uses the campaign's own brand kit unless another is picked.
  function chooseSource(next: RowSource) {
    setSource(next);
    const kits = brandKits.data?.brand_kits ?? [];
    setBrandKitId(next === "campaign" ? noBrandKit : (kits[0]?.id ?? noBrandKit));
  }

  const [image, setImage] = useState<{ url: string; label: string } | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const imageUrl = useRef<string | null>(null);

  // The first brand kit is the default, so that brand.* names bind at once.
  useEffect(() => {
    const kits = brandKits.data?.brand_kits;
    if (brandKitId === null && kits) {
      setBrandKitId(kits[0]?.id ?? noBrandKit);
    }
  }, [brandKits.data, brandKitId]);

  // Fields that the saved version declares start at their defaults; values
  // already typed stay.
  useEffect(() => {
    setValues((current) => {
      const next: Record<string, string> = {};
      for (const [name, field] of Object.entries(timeline.fields)) {
        next[name] = current[name] ?? field.defaultValue;
      }
      return next;
    });
  }, [timeline]);

  const lastFrame = Math.max(0, timeline.totalFrames - 1);
  useEffect(() => {
    setFrame((current) => Math.min(current, lastFrame));
  }, [lastFrame]);

  const request = useMemo((): PreviewRequest | null => {
    if (!active || templateId === null || timeline.totalFrames === 0 || brandKitId === null) {
      return null;
    }
    const base: PreviewRequest = {
      template_id: templateId,
      version: savedVersion,
      time_s: Math.min(frame, lastFrame) / timeline.fps,
    };
    if (brandKitId !== noBrandKit) {
      base.brand_kit_id = brandKitId;
    }
    if (source === "campaign") {
      return campaignId ? { ...base, campaign_id: campaignId, row } : null;
    }
    return { ...base, values };
  }, [
    active,
    templateId,
    savedVersion,
    frame,
    lastFrame,
    timeline,
    brandKitId,
    source,
    campaignId,
    row,
    values,
  ]);

  // Required fields that are still empty: the worker would only reject the row.
  const missingFields =
    source === "values"
      ? Object.entries(timeline.fields)
          .filter(([name, field]) => field.required && !(values[name] ?? "").trim())
          .map(([name]) => name)
      : [];

  const requestKey =
    request && missingFields.length === 0 ? `${JSON.stringify(request)}#${attempt}` : "";
  const [debouncedKey] = useDebouncedValue(requestKey, 250);

  useEffect(() => {
    if (!debouncedKey) {
      return;
    }
    const body = JSON.parse(debouncedKey.slice(0, debouncedKey.lastIndexOf("#"))) as PreviewRequest;
    const controller = new AbortController();
    setLoading(true);
    renderPreview(body, controller.signal)
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        if (imageUrl.current) {
          URL.revokeObjectURL(imageUrl.current);
        }
        imageUrl.current = url;
        const scene = sceneAt(timeline, Math.round(body.time_s * timeline.fps));
        const place = scene ? `, scene ${scene}` : "";
        setImage({
          url,
          label: `Frame at ${formatSeconds(body.time_s)}${place}, version ${body.version}`,
        });
        setError(null);
      })
      .catch((caught: unknown) => {
        if (!controller.signal.aborted) {
          setError(caught);
        }
      })
      .finally(() => {
        if (!controller.signal.aborted) {
          setLoading(false);
        }
      });
    return () => controller.abort();
  }, [debouncedKey, timeline]);

  useEffect(
    () => () => {
      if (imageUrl.current) {
        URL.revokeObjectURL(imageUrl.current);
      }
    },
    [],
  );

  const heading = (
    <Group justify="space-between" gap="xs">
      <Title order={2} size="h4">
        Preview
      </Title>
      {active ? (
        <Badge variant="light" color={dirty ? "yellow" : "gray"}>
          Version {savedVersion}
        </Badge>
      ) : null}
    </Group>
  );

  if (!canPreview) {
    return (
      <Paper withBorder p="md" radius="md">
        <Stack gap="xs">
          {heading}
          <Text size="sm" c="dimmed">
            Previews need the editor role. Ask an owner of your agency for it.
          </Text>
        </Stack>
      </Paper>
    );
  }
  if (templateId === null) {
    return (
      <Paper withBorder p="md" radius="md">
        <Stack gap="xs">
          {heading}
          <Text size="sm" c="dimmed">
            Save the template to preview it. A worker then renders any frame with a brand kit and a
            row of your data.
          </Text>
        </Stack>
      </Paper>
    );
  }

  const seconds = frame / timeline.fps;
  const scene = sceneAt(timeline, frame);
  const kits = brandKits.data?.brand_kits ?? [];
  const problem = error ? previewProblem(error) : null;
  let placeholderText = "The frame appears here.";
  if (loading) {
    placeholderText = "A worker is rendering the frame…";
  } else if (source === "campaign" && campaignId === null) {
    placeholderText = "Pick a campaign to preview one of its rows.";
  } else if (missingFields.length > 0) {
    placeholderText = "Fill in the required fields below to see the frame.";
  }

  return (
    <Paper withBorder p="md" radius="md" component="section" aria-label="Preview">
      <Stack gap="sm">
        {heading}
        {dirty ? (
          <Text size="sm" c="yellow.9" role="status">
            The preview shows the saved version {savedVersion}. Save to preview your changes.
          </Text>
        ) : null}

        {timeline.totalFrames === 0 ? (
          <Text size="sm" c="dimmed">
            The saved version has no scene with a duration, so it has no frames to show.
          </Text>
        ) : (
          <>
            <Box
              pos="relative"
              mx="auto"
              w="100%"
              maw={`calc(min(62vh, 640px) * ${timeline.width} / ${timeline.height})`}
              style={{
                aspectRatio: `${timeline.width} / ${timeline.height}`,
                background: "var(--mantine-color-gray-1)",
                borderRadius: "var(--mantine-radius-sm)",
                overflow: "hidden",
              }}
            >
              {image ? (
                <img
                  src={image.url}
                  alt={image.label}
                  data-testid="template-preview-image"
                  style={{
                    width: "100%",
                    height: "100%",
                    objectFit: "contain",
                    display: "block",
                    opacity: error ? 0.45 : 1,
                  }}
                />
              ) : (
                <Center h="100%" p="md">
                  <Text size="sm" c="dimmed" ta="center">
                    {placeholderText}
                  </Text>
                </Center>
              )}
              {loading ? (
                <Group
                  gap={6}
                  pos="absolute"
                  top={8}
                  right={8}
                  px={8}
                  py={4}
                  role="status"
                  aria-live="polite"
                  style={{ background: "rgba(255,255,255,0.85)", borderRadius: 6 }}
                >
                  <Loader size={14} />
                  <Text size="xs">Rendering</Text>
                </Group>
              ) : null}
            </Box>

            <Stack gap={4}>
              <Group justify="space-between" gap="xs">
                <Text size="sm" id="template-time-label">
                  Time {formatSeconds(seconds)}
                  {scene ? ` · ${scene}` : ""}
                </Text>
                <Text size="xs" c="dimmed">
                  of {formatSeconds(timeline.totalFrames / timeline.fps)} at {timeline.fps} fps
                </Text>
              </Group>
              <Slider
                data-testid="template-time-slider"
                aria-labelledby="template-time-label"
                thumbProps={{ "aria-label": "Time" }}
                min={0}
                max={lastFrame}
                step={1}
                value={Math.min(frame, lastFrame)}
                onChange={setFrame}
                label={null}
                marks={timeline.scenes.map((item) => ({ value: item.startFrame }))}
              />
              <Group gap={4} wrap="wrap" mt={4} aria-label="Scenes">
                {timeline.scenes.map((item) => (
                  <Button
                    key={`${item.name}-${item.startFrame}`}
                    size="compact-xs"
                    variant={scene === item.name ? "light" : "subtle"}
                    onClick={() => setFrame(Math.min(item.startFrame, lastFrame))}
                  >
                    {item.name} {formatSeconds(item.startFrame / timeline.fps)}
                  </Button>
                ))}
              </Group>
            </Stack>
          </>
        )}

        {problem ? (
          <Alert
            color={error instanceof ApiError && error.status === 504 ? "orange" : "red"}
            title={problem.title}
            role="alert"
            variant="light"
          >
            <Stack gap="xs">
              <Text size="sm">{problem.text}</Text>
              <Group>
                <Button size="xs" variant="light" onClick={() => setAttempt((value) => value + 1)}>
                  Try again
                </Button>
              </Group>
            </Stack>
          </Alert>
        ) : null}

        {brandKits.error ? (
          <ErrorAlert
            error={brandKits.error}
            title="Could not load the brand kits"
            onRetry={() => void brandKits.reload()}
          />
        ) : (
          <Select
            size="xs"
            label="Brand kit"
            data-testid="template-brand-kit-picker"
            data={[
              {
                value: noBrandKit,
                label: source === "campaign" ? "The campaign's brand kit" : "No brand kit",
              },
              ...kits.map((kit) => ({ value: kit.id, label: kit.name })),
            ]}
            value={brandKitId}
            allowDeselect={false}
            onChange={(value) => setBrandKitId(value ?? noBrandKit)}
            disabled={!brandKits.data}
            description={
              brandKits.data && kits.length === 0 ? (
                <>
                  No brand kits yet; brand.* names stay empty.{" "}
                  <Anchor component={Link} href="/brand-kits" size="xs">
                    Create one
                  </Anchor>
                </>
              ) : undefined
            }
          />
        )}

        <Stack gap="xs" data-testid="template-row-picker">
          <SegmentedControl
            size="xs"
            aria-label="Row source"
            value={source}
            onChange={(value) => chooseSource(value as RowSource)}
            data={[
              { value: "values", label: "Type values" },
              { value: "campaign", label: "Campaign row" },
            ]}
          />
          {missingFields.length > 0 ? (
            <Text size="xs" c="dimmed" role="status">
              Required for the frame: {missingFields.join(", ")}.
            </Text>
          ) : null}
          {source === "values" ? (
            <ValuesForm
              timeline={timeline}
              values={values}
              onChange={(name, value) => setValues((current) => ({ ...current, [name]: value }))}
            />
          ) : (
            <CampaignRowPicker
              templateId={templateId}
              campaignId={campaignId}
              row={row}
              onCampaign={chooseCampaign}
              onRow={setRow}
            />
          )}
        </Stack>
      </Stack>
    </Paper>
  );
}
