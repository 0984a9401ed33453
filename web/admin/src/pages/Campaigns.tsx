// Campaigns: the list at /campaigns, and at /campaigns/:id one campaign as
// five steps (settings, rows, mapping, check, generate) above its batches.
import { Anchor, Button, Group, List, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useCallback, useEffect, useRef, useState } from "react";
import type { MouseEvent } from "react";
import { Link, useLocation, useParams } from "wouter";

import { describeError } from "../api/client";
import { deleteCampaign, paths } from "../api/campaigns";
import type {
  Batch,
  BrandKitSummary,
  Campaign,
  TemplateBody,
  TemplateField,
  TemplateSummary,
} from "../api/campaigns";
import { canAct } from "../api/session";
import { BatchStateBadge, plural } from "../components/BatchStatus";
import { BatchView, batchListLimit } from "../components/BatchView";
import { CampaignGenerate } from "../components/CampaignGenerate";
import { CampaignMapping, filledFields, openingStatus } from "../components/CampaignMapping";
import type { MappingStatus } from "../components/CampaignMapping";
import { CampaignPreflight, summarize } from "../components/CampaignPreflight";
import type { PreflightRun } from "../components/CampaignPreflight";
import { CampaignRows, firstRowsPath } from "../components/CampaignRows";
import { CampaignSettings } from "../components/CampaignSettings";
import { CampaignStep } from "../components/CampaignStep";
import type { StepStatus } from "../components/CampaignStep";
import { Dialog } from "../components/Dialog";
import { formatCount, formatTime } from "../components/format";
import { followWhenLoaded } from "../components/navigation";
import { dropPrefetched, prefetch, useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

// The requests of the campaign list, asked for at a click on its link.
export function preload(): string[] {
  return [
    paths.campaigns,
    paths.templates,
    paths.brandKits,
    paths.batches({ limit: listedBatches }),
  ];
}

export default function CampaignsPage() {
  const params = useParams<{ id?: string }>();
  if (!params.id) {
    return <CampaignList />;
  }
  if (params.id === "new") {
    return <NewCampaign />;
  }
  return <CampaignDetail key={params.id} id={params.id} />;
}

// Batches that the campaign list reads to show each campaign's last one.
const listedBatches = 500;

function useCanEdit(): boolean {
  const { me } = useSession();
  return canAct(me, "editor");
}

function useTemplatesAndKits() {
  const templates = useResource<{ templates: TemplateSummary[] }>(paths.templates);
  const kits = useResource<{ brand_kits: BrandKitSummary[] }>(paths.brandKits);
  return { templates, kits };
}

function CampaignList() {
  const canEdit = useCanEdit();
  const campaigns = useResource<{ campaigns: Campaign[] }>(paths.campaigns);
  const { templates, kits } = useTemplatesAndKits();
  // Newest first, so the first batch seen of a campaign is its last one.
  const batches = useResource<{ batches: Batch[] }>(paths.batches({ limit: listedBatches }));

  const templateNames = new Map(templates.data?.templates.map((item) => [item.id, item.name]));
  const kitNames = new Map(kits.data?.brand_kits.map((kit) => [kit.id, kit.name]));
  const lastBatch = new Map<string, Batch>();
  for (const batch of batches.data?.batches ?? []) {
    if (!lastBatch.has(batch.campaign_id)) {
      lastBatch.set(batch.campaign_id, batch);
    }
  }

  const header = (
    <PageHeader
      title="Campaigns"
      description="Each campaign turns a table of rows into one video per row."
      actions={
        canEdit ? (
          <Button component={Link} href="/campaigns/new" data-testid="campaigns-new">
            New campaign
          </Button>
        ) : null
      }
    />
  );

  if (campaigns.error) {
    return (
      <>
        {header}
        <ErrorAlert
          error={campaigns.error}
          title="Could not load the campaigns"
          onRetry={campaigns.reload}
        />
      </>
    );
  }
  if (!campaigns.data) {
    return (
      <>
        {header}
        <Loading label="Loading campaigns" />
      </>
    );
  }

  const list = campaigns.data.campaigns;
  if (list.length === 0) {
    const noTemplates = templates.data?.templates.length === 0;
    const noKits = kits.data?.brand_kits.length === 0;
    return (
      <>
        {header}
        <EmptyState
          title="No campaigns yet"
          action={
            <List type="ordered" size="sm" spacing={4} maw={480} data-testid="campaigns-steps">
              <List.Item>
                A template: the video's scenes and the fields each row fills.{" "}
                {noTemplates ? (
                  <Anchor component={Link} href="/templates">
                    Create one first.
                  </Anchor>
                ) : null}
              </List.Item>
              <List.Item>
                A brand kit: colours, fonts and logo.{" "}
                {noKits ? (
                  <Anchor component={Link} href="/brand-kits">
                    Create one first.
                  </Anchor>
                ) : null}
              </List.Item>
              <List.Item>Rows: a CSV file with one line per video.</List.Item>
            </List>
          }
        >
          A campaign needs three things, and then Generate all makes one video per row.
          {canEdit ? " Start with New campaign." : " Editors of your agency create them."}
        </EmptyState>
      </>
    );
  }

  return (
    <>
      {header}
      <Table.ScrollContainer minWidth={720}>
        <Table
          highlightOnHover
          verticalSpacing="sm"
          data-testid="campaigns-list"
          aria-label="Campaigns"
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th scope="col">Name</Table.Th>
              <Table.Th scope="col">Template</Table.Th>
              <Table.Th scope="col">Brand kit</Table.Th>
              <Table.Th scope="col" ta="right">
                Rows
              </Table.Th>
              <Table.Th scope="col">Last batch</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.map((campaign) => {
              const batch = lastBatch.get(campaign.id);
              return (
                <Table.Tr key={campaign.id} data-testid={`campaigns-row-${campaign.id}`}>
                  <Table.Td>
                    <Anchor
                      component={Link}
                      href={`/campaigns/${campaign.id}`}
                      onClick={(event: MouseEvent) => {
                        event.preventDefault();
                        followWhenLoaded(
                          `/campaigns/${campaign.id}`,
                          campaignPagePaths(campaign, batch),
                        );
                      }}
                      fw={600}
                    >
                      {campaign.name}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    {campaign.template_id ? (
                      <>
                        {templateNames.get(campaign.template_id) ?? campaign.template_id}
                        <Text span c="dimmed" size="sm">
                          {campaign.template_version > 0
                            ? ` v${campaign.template_version}`
                            : " (latest)"}
                        </Text>
                      </>
                    ) : (
                      <Text span c="dimmed" size="sm">
                        Not chosen
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td>
                    {campaign.brand_kit_id ? (
                      (kitNames.get(campaign.brand_kit_id) ?? campaign.brand_kit_id)
                    ) : (
                      <Text span c="dimmed" size="sm">
                        Not chosen
                      </Text>
                    )}
                  </Table.Td>
                  <Table.Td ta="right">{formatCount(campaign.row_count)}</Table.Td>
                  <Table.Td>
                    {batch ? (
                      <Group gap="xs" wrap="nowrap">
                        <BatchStateBadge batch={batch} />
                        <Text size="xs" c="dimmed">
                          {formatTime(batch.created_at_ms ?? 0)}
                        </Text>
                      </Group>
                    ) : (
                      <Text span c="dimmed" size="sm">
                        None yet
                      </Text>
                    )}
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {batches.error ? (
        <Text size="sm" c="red" mt="sm">
          Could not load the batches: {describeError(batches.error)}
        </Text>
      ) : null}
    </>
  );
}

function NewCampaign() {
  const canEdit = useCanEdit();
  const [, navigate] = useLocation();
  const { templates, kits } = useTemplatesAndKits();

  const back = (
    <Button component={Link} href="/campaigns" variant="default">
      All campaigns
    </Button>
  );
  if (!canEdit) {
    return (
      <>
        <PageHeader title="New campaign" actions={back} />
        <Text size="sm" c="dimmed">
          Creating campaigns needs the editor role. An owner of your agency can give it to you.
        </Text>
      </>
    );
  }
  const loadError = templates.error ?? kits.error;
  return (
    <>
      <PageHeader
        title="New campaign"
        description="Name it and choose its template and brand kit; the rows come next."
        actions={back}
      />
      <Stack gap="md">
        {loadError ? (
          <ErrorAlert
            error={loadError}
            title="Could not load the templates and brand kits"
            onRetry={() => {
              void templates.reload();
              void kits.reload();
            }}
          />
        ) : null}
        <CampaignStep number={1} title="Settings" status="todo">
          <CampaignSettings
            campaign={null}
            templates={templates.data?.templates}
            brandKits={kits.data?.brand_kits}
            canEdit
            onSaved={(campaign) => {
              notifications.show({
                color: "teal",
                message: `Campaign “${campaign.name}” created.`,
              });
              navigate(`/campaigns/${campaign.id}`, { replace: true });
            }}
          />
        </CampaignStep>
        {["Rows", "Mapping", "Check rows", "Generate all"].map((title, index) => (
          <CampaignStep
            key={title}
            number={index + 2}
            title={title}
            status="blocked"
            blockedReason="Create the campaign first."
          />
        ))}
      </Stack>
    </>
  );
}

function templatePath(campaign: Campaign | undefined): string | null {
  if (!campaign?.template_id) {
    return null;
  }
  return campaign.template_version > 0
    ? paths.templateVersion(campaign.template_id, campaign.template_version)
    : `${paths.templates}/${encodeURIComponent(campaign.template_id)}`;
}

// Width over height of the template's canvas, for the posters in the grid.
function canvasRatio(body: TemplateBody | undefined): number {
  const canvas = body?.canvas as { width?: number; height?: number } | undefined;
  const width = canvas?.width ?? 1080;
  const height = canvas?.height ?? 1920;
  return width > 0 && height > 0 ? width / height : 9 / 16;
}

// The requests of the campaign page's steps, which need only the campaign's id.
function stepPaths(id: string): string[] {
  return [
    firstRowsPath(id),
    paths.batches({ campaignId: id, limit: batchListLimit }),
    paths.credits,
  ];
}

// Every request of CAMPAIGN's page, for its link to start at the click. The
// page alone learns the template from the campaign's response and the newest
// batch from the batch list, each one round trip later. The campaign list
// already has both.
function campaignPagePaths(campaign: Campaign, newestBatch: Batch | undefined): string[] {
  const all = [
    paths.campaign(campaign.id),
    paths.templates,
    paths.brandKits,
    ...stepPaths(campaign.id),
  ];
  const template = templatePath(campaign);
  if (template !== null) {
    all.push(template);
  }
  if (campaign.template_id) {
    all.push(paths.templateVersions(campaign.template_id));
  }
  if (newestBatch !== undefined) {
    all.push(paths.batch(newestBatch.id));
  }
  return all;
}

// The settings step folded: the template, its version and the brand kit.
function settingsSummary(
  campaign: Campaign,
  templates: TemplateSummary[] | undefined,
  kits: BrandKitSummary[] | undefined,
): string {
  const template =
    templates?.find((candidate) => candidate.id === campaign.template_id)?.name ??
    campaign.template_id;
  const kit =
    kits?.find((candidate) => candidate.id === campaign.brand_kit_id)?.name ??
    campaign.brand_kit_id;
  const version =
    campaign.template_version > 0
      ? `version ${campaign.template_version}`
      : "its latest version";
  return `The template “${template}” at ${version}, with the brand kit “${kit}”.`;
}

// The mapping step folded: how many fields take a column.
function mappingSummary(fields: Record<string, TemplateField>, campaign: Campaign): string {
  const total = Object.keys(fields).length;
  const filled = filledFields(fields, campaign);
  if (total === 0) {
    return "The template has no fields, so every row makes the same video.";
  }
  if (filled === total) {
    return total === 1
      ? "The template's field takes its value from a column."
      : `All ${total} fields take their values from columns.`;
  }
  return (
    `${filled} of ${plural(total, "field")} take their values from columns; ` +
    "the others use their defaults."
  );
}

function sameStatus(a: MappingStatus, b: MappingStatus): boolean {
  return (
    a.dirty === b.dirty &&
    a.missingRequired.join("\u0000") === b.missingRequired.join("\u0000")
  );
}

function CampaignDetail({ id }: { id: string }) {
  const canEdit = useCanEdit();
  const [, navigate] = useLocation();
  const resource = useResource<Campaign>(paths.campaign(id));
  const { templates, kits } = useTemplatesAndKits();
  const campaign = resource.data;
  const template = useResource<{ body?: TemplateBody }>(templatePath(campaign));

  // The steps below ask for these once the campaign is known, but they need
  // only its id: requesting them now saves a round trip before the page is complete.
  // The steps take the responses as they mount. React runs their effects before
  // this component's, so the responses still left over once they have mounted
  // are dropped, and a step that mounts later, such as the rows table after
  // the first upload, asks the server again.
  const stepsMounted = campaign !== undefined;
  const mappingMounted =
    stepsMounted &&
    (templatePath(campaign) === null || template.data !== undefined || template.error !== null);
  // The mapping step mounts once the template's fields are known, and shows
  // examples from the rows table's first page.
  const mappingPath = firstRowsPath(id);
  useEffect(() => {
    if (!stepsMounted) {
      stepPaths(id).forEach(prefetch);
    } else {
      stepPaths(id).forEach(dropPrefetched);
    }
  }, [id, stepsMounted]);
  useEffect(() => {
    if (!mappingMounted) {
      prefetch(mappingPath);
    } else {
      dropPrefetched(mappingPath);
    }
  }, [id, mappingMounted]);

  const [reportedMapping, setMapping] = useState<MappingStatus | null>(null);
  const [preflightRun, setPreflightRun] = useState<PreflightRun | null>(null);
  const [rowsRevision, setRowsRevision] = useState(0);
  const [selectedBatch, setSelectedBatch] = useState<string | null>(null);
  const [batchesRevision, setBatchesRevision] = useState(0);
  const [endedBatches, setEndedBatches] = useState(0);
  const onBatchEnded = useCallback(() => setEndedBatches((value) => value + 1), []);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  // The steps done when the page opens start folded to a line each, so that
  // a campaign that is set up opens at its checks and videos. OPENING records
  // whether each step was done when its status was first known, and TOGGLED
  // contains the done steps whose button was pressed since.
  const opening = useRef(new Map<number, boolean>());
  const [toggled, setToggled] = useState<ReadonlySet<number>>(() => new Set());

  const setCampaign = resource.setData;
  // The mapping step reports its status after each of its renders. Until its
  // first report the page shows the status of the form as it opens, so that
  // an unchanged status leaves the page as it is.
  const shownMapping = useRef<MappingStatus | null>(null);
  const onMappingStatus = useCallback((status: MappingStatus) => {
    if (shownMapping.current === null || !sameStatus(shownMapping.current, status)) {
      setMapping(status);
    }
  }, []);

  if (resource.error && !campaign) {
    return (
      <>
        <PageHeader title="Campaign" />
        <ErrorAlert
          error={resource.error}
          title="Could not load the campaign"
          onRetry={resource.reload}
        />
        <Text size="sm" mt="sm">
          <Anchor component={Link} href="/campaigns">
            Back to all campaigns
          </Anchor>
        </Text>
      </>
    );
  }
  if (!campaign) {
    return <Loading label="Loading the campaign" />;
  }

  const fields = template.data?.body?.fields;
  const mapping =
    reportedMapping ?? (fields === undefined ? null : openingStatus(fields, campaign));
  shownMapping.current = mapping;
  const settingsDone = campaign.template_id !== "" && campaign.brand_kit_id !== "";
  const rowsDone = campaign.row_count > 0;
  const mappingDone =
    mapping !== null &&
    !mapping.dirty &&
    mapping.missingRequired.length === 0 &&
    fields !== undefined;
  const mappingBlocked = !rowsDone
    ? "Upload the rows first."
    : !campaign.template_id
      ? "Choose a template first."
      : "";
  let mappingStatus: StepStatus = mappingDone ? "done" : "todo";
  if (mappingBlocked) {
    mappingStatus = "blocked";
  }
  let readyReason = "";
  if (!settingsDone) {
    readyReason = "Choose a template and a brand kit first.";
  } else if (!rowsDone) {
    readyReason = "Upload the rows first.";
  } else if (mapping?.dirty) {
    readyReason = "Save the mapping first.";
  }
  const preflightFresh =
    preflightRun !== null && preflightRun.revision === (campaign.updated_at_ms ?? 0);
  const preflightClean =
    preflightFresh &&
    preflightRun.result.template_valid &&
    preflightRun.result.rows_with_errors === 0;
  const preflightStatus: StepStatus = !settingsDone || !rowsDone
    ? "blocked"
    : preflightClean
      ? "done"
      : preflightFresh
        ? "attention"
        : "todo";
  // The mapping's status is known once the template's fields are.
  const known: [number, boolean, boolean][] = [
    [1, true, settingsDone],
    [2, true, rowsDone],
    [3, fields !== undefined || mappingBlocked !== "", mappingStatus === "done"],
  ];
  for (const [number, isKnown, done] of known) {
    if (isKnown && !opening.current.has(number)) {
      opening.current.set(number, done);
    }
  }
  // The props that fold step NUMBER while it is done.
  const folding = (number: number, done: boolean) =>
    done
      ? {
          folded: (opening.current.get(number) ?? false) !== toggled.has(number),
          onToggle: () =>
            setToggled((before) => {
              const after = new Set(before);
              if (!after.delete(number)) {
                after.add(number);
              }
              return after;
            }),
        }
      : {};
  const generateWarning =
    mapping && mapping.missingRequired.length > 0
      ? `No column fills ${mapping.missingRequired.join(", ")}, so every row would fail.`
      : preflightFresh && !preflightClean
        ? `The check found problems: ${summarize(preflightRun.result)}`
        : "";

  async function remove() {
    setDeleting(true);
    try {
      await deleteCampaign(id);
      notifications.show({ color: "teal", message: `Campaign “${campaign?.name}” deleted.` });
      navigate("/campaigns", { replace: true });
    } catch (caught) {
      setDeleting(false);
      setConfirmDelete(false);
      notifications.show({
        color: "red",
        title: "Could not delete the campaign",
        message: describeError(caught),
      });
    }
  }

  return (
    <>
      <PageHeader
        title={campaign.name}
        description={
          `Campaign with ${plural(campaign.row_count, "row")}.` +
          (canEdit ? " Work through the steps from top to bottom." : "")
        }
        actions={
          <>
            <Button component={Link} href="/campaigns" variant="default">
              All campaigns
            </Button>
            {canEdit ? (
              <Button variant="subtle" color="red" onClick={() => setConfirmDelete(true)}>
                Delete
              </Button>
            ) : null}
          </>
        }
      />
      <Stack gap="md" data-testid="campaign-steps">
        <CampaignStep
          number={1}
          title="Settings"
          description={
            "The template sets the scenes and fields. The brand kit sets colours, fonts and logo."
          }
          status={settingsDone ? "done" : "todo"}
          summary={settingsSummary(campaign, templates.data?.templates, kits.data?.brand_kits)}
          {...folding(1, settingsDone)}
        >
          <CampaignSettings
            key={campaign.id}
            campaign={campaign}
            templates={templates.data?.templates}
            brandKits={kits.data?.brand_kits}
            canEdit={canEdit}
            onSaved={(saved) => {
              setCampaign(saved);
              notifications.show({ color: "teal", message: "Settings saved." });
            }}
          />
        </CampaignStep>

        <CampaignStep
          number={2}
          title="Rows"
          description="One line of the CSV file per video."
          status={rowsDone ? "done" : "todo"}
          summary={`${plural(campaign.row_count, "row")} with ${plural(
            campaign.columns.length,
            "column",
          )}: ${campaign.columns.join(", ")}.`}
          {...folding(2, rowsDone)}
        >
          <CampaignRows
            campaign={campaign}
            canEdit={canEdit}
            onUploaded={(saved) => {
              setCampaign(saved);
              setRowsRevision((value) => value + 1);
            }}
          />
        </CampaignStep>

        <CampaignStep
          number={3}
          title="Mapping"
          description="Which column fills each field of the template."
          status={mappingStatus}
          blockedReason={mappingBlocked}
          summary={fields === undefined ? null : mappingSummary(fields, campaign)}
          {...folding(3, mappingStatus === "done")}
        >
          {template.error ? (
            <ErrorAlert
              error={template.error}
              title="Could not load the template"
              onRetry={template.reload}
            />
          ) : fields === undefined &&
            (template.loading || (templatePath(campaign) !== null && !template.data)) ? (
            <Loading label="Loading the template's fields" />
          ) : (
            <CampaignMapping
              key={`${campaign.template_id}:${campaign.template_version}:${rowsRevision}`}
              campaign={campaign}
              fields={fields ?? {}}
              canEdit={canEdit}
              onSaved={(saved) => {
                setCampaign(saved);
                notifications.show({ color: "teal", message: "Mapping saved." });
              }}
              onStatus={onMappingStatus}
            />
          )}
        </CampaignStep>

        <CampaignStep
          number={4}
          title="Check rows"
          description={
            "Optional, and worth it: finds the rows that would fail before they cost anything."
          }
          status={preflightStatus}
          blockedReason={readyReason}
        >
          <CampaignPreflight
            campaign={campaign}
            canEdit={canEdit}
            blockedReason={readyReason}
            run={preflightRun}
            onRun={setPreflightRun}
          />
        </CampaignStep>

        <CampaignStep
          number={5}
          title="Generate all"
          status={!settingsDone || !rowsDone ? "blocked" : "todo"}
          blockedReason={readyReason}
        >
          <CampaignGenerate
            campaign={campaign}
            canEdit={canEdit}
            blockedReason={readyReason}
            warning={generateWarning}
            creditsRevision={endedBatches}
            onGenerated={(batchId) => {
              setSelectedBatch(batchId);
              setBatchesRevision((value) => value + 1);
              document
                .getElementById("campaign-videos")
                ?.scrollIntoView({ behavior: "smooth", block: "start" });
            }}
          />
        </CampaignStep>

        <Stack gap="sm" component="section" aria-labelledby="campaign-videos" mt="md">
          <Title order={2} size="h4" id="campaign-videos">
            Videos
          </Title>
          <BatchView
            campaignId={campaign.id}
            selected={selectedBatch}
            onSelect={setSelectedBatch}
            listRevision={batchesRevision}
            canEdit={canEdit}
            ratio={canvasRatio(template.data?.body)}
            onEnded={onBatchEnded}
          />
        </Stack>
      </Stack>

      <Dialog
        opened={confirmDelete}
        onClose={() => (deleting ? undefined : setConfirmDelete(false))}
        title="Delete this campaign?"
        centered
      >
        <Stack gap="md">
          <Text size="sm">
            “{campaign.name}” and its rows go away. Its batches and videos stay, and the
            dashboard still lists them.
          </Text>
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirmDelete(false)} data-autofocus>
              Keep it
            </Button>
            <Button color="red" loading={deleting} onClick={() => void remove()}>
              Delete campaign
            </Button>
          </Group>
        </Stack>
      </Dialog>
    </>
  );
}
