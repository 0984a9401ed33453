// Step 1 of a campaign: its name, template and version, and brand kit. Saving
// a new campaign creates it; saving an existing one sends only what changed.
import {
  Anchor,
  Button,
  Group,
  NativeSelect,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { useState } from "react";
import type { FormEvent } from "react";
import { Link } from "wouter";

import { createCampaign, paths, updateCampaign } from "../api/campaigns";
import type {
  BrandKitSummary,
  Campaign,
  CampaignChange,
  TemplateSummary,
  TemplateVersion,
} from "../api/campaigns";
import { formatTime } from "./format";
import { useResource } from "./resource";
import { ErrorAlert } from "./states";

export function CampaignSettings({
  campaign,
  templates,
  brandKits,
  canEdit,
  onSaved,
}: {
  campaign: Campaign | null;
  templates: TemplateSummary[] | undefined;
  brandKits: BrandKitSummary[] | undefined;
  canEdit: boolean;
  onSaved: (campaign: Campaign, created: boolean) => void;
}) {
  const [name, setName] = useState(campaign?.name ?? "");
  const [templateId, setTemplateId] = useState(campaign?.template_id ?? "");
  const [version, setVersion] = useState(String(campaign?.template_version ?? 0));
  const [brandKitId, setBrandKitId] = useState(campaign?.brand_kit_id ?? "");
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const versions = useResource<{ versions: TemplateVersion[] }>(
    templateId ? paths.templateVersions(templateId) : null,
  );
  const template = templates?.find((item) => item.id === templateId);

  const templateOptions = (templates ?? []).map((item) => ({ value: item.id, label: item.name }));
  if (templateId && !template) {
    templateOptions.push({ value: templateId, label: templateId });
  }
  const kitOptions = (brandKits ?? []).map((kit) => ({ value: kit.id, label: kit.name }));
  if (brandKitId && !brandKits?.some((kit) => kit.id === brandKitId)) {
    kitOptions.push({ value: brandKitId, label: brandKitId });
  }
  const versionOptions = [
    {
      value: "0",
      label: template ? `Latest (version ${template.latest_version})` : "Latest",
    },
    ...[...(versions.data?.versions ?? [])].reverse().map((item) => ({
      value: String(item.version),
      label: `Version ${item.version}, ${formatTime(item.created_at_ms)}`,
    })),
  ];
  if (!versionOptions.some((option) => option.value === version)) {
    versionOptions.push({ value: version, label: `Version ${version}` });
  }

  const change: CampaignChange = {};
  if (name.trim() !== (campaign?.name ?? "")) {
    change.name = name.trim();
  }
  if (templateId !== (campaign?.template_id ?? "")) {
    change.template_id = templateId;
  }
  if (Number(version) !== (campaign?.template_version ?? 0) || (!campaign && templateId)) {
    change.template_version = Number(version);
  }
  if (brandKitId !== (campaign?.brand_kit_id ?? "")) {
    change.brand_kit_id = brandKitId;
  }
  const dirty = Object.keys(change).length > 0;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!dirty || !name.trim()) {
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const saved = campaign
        ? await updateCampaign(campaign.id, change)
        : await createCampaign({
            name: name.trim(),
            template_id: templateId,
            template_version: Number(version),
            brand_kit_id: brandKitId,
          });
      onSaved(saved, campaign === null);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  }

  const noTemplates = templates !== undefined && templates.length === 0;
  const noKits = brandKits !== undefined && brandKits.length === 0;
  const templatePlaceholder =
    templates === undefined
      ? "Loading templates…"
      : noTemplates
        ? "No templates yet"
        : "Choose a template";
  const kitPlaceholder =
    brandKits === undefined
      ? "Loading brand kits…"
      : noKits
        ? "No brand kits yet"
        : "Choose a brand kit";

  return (
    <Stack gap="md" component="form" onSubmit={submit}>
      {error ? <ErrorAlert error={error} title="Could not save the campaign" /> : null}
      <TextInput
        label="Name"
        description="For your team, such as “Premier League matchday 1”."
        required
        maxLength={200}
        value={name}
        onChange={(event) => setName(event.currentTarget.value)}
        disabled={!canEdit}
        data-testid="campaign-name"
        autoFocus={campaign === null}
      />
      <SimpleGrid cols={{ base: 1, sm: 3 }} spacing="md">
        <NativeSelect
          label="Template"
          required
          data={[{ value: "", label: templatePlaceholder, disabled: true }, ...templateOptions]}
          value={templateId}
          onChange={(event) => {
            setTemplateId(event.currentTarget.value);
            setVersion("0");
          }}
          disabled={!canEdit || templates === undefined}
          data-testid="campaign-template"
        />
        <NativeSelect
          label="Template version"
          description="Latest follows new versions of the template."
          data={versionOptions}
          value={version}
          onChange={(event) => setVersion(event.currentTarget.value)}
          disabled={!canEdit || !templateId}
          data-testid="campaign-template-version"
        />
        <NativeSelect
          label="Brand kit"
          required
          data={[{ value: "", label: kitPlaceholder, disabled: true }, ...kitOptions]}
          value={brandKitId}
          onChange={(event) => setBrandKitId(event.currentTarget.value)}
          disabled={!canEdit || brandKits === undefined}
          data-testid="campaign-brand-kit"
        />
      </SimpleGrid>
      {noTemplates || noKits ? (
        <Text size="sm" c="dimmed">
          A campaign needs a template and a brand kit.{" "}
          {noTemplates ? (
            <>
              <Anchor component={Link} href="/templates">
                Create a template
              </Anchor>
              {noKits ? " and " : "."}
            </>
          ) : null}
          {noKits ? (
            <>
              <Anchor component={Link} href="/brand-kits">
                {noTemplates ? "a brand kit" : "Create a brand kit"}
              </Anchor>
              .
            </>
          ) : null}
        </Text>
      ) : null}
      {versions.error ? (
        <Text size="sm" c="red">
          Could not load the template's versions; “Latest” still works.
        </Text>
      ) : null}
      {canEdit ? (
        <Group>
          <Button
            type="submit"
            loading={busy}
            disabled={!dirty || !name.trim() || !templateId || !brandKitId}
            data-testid="campaign-save"
          >
            {campaign ? "Save settings" : "Create campaign"}
          </Button>
          {campaign && dirty ? (
            <Text size="sm" c="dimmed">
              Unsaved changes
            </Text>
          ) : null}
        </Group>
      ) : (
        <Text size="sm" c="dimmed">
          You have the viewer role, so you can look but not change. An owner of your agency can
          give you the editor role.
        </Text>
      )}
    </Stack>
  );
}
