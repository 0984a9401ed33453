// Brand kits: the list at /brand-kits, and at /brand-kits/:id ("new" for a new
// kit) the editor of a kit's name, colours, fonts, logo, named assets and
// asset libraries, with the server's 422 problems shown next to their inputs.
import {
  Alert,
  Anchor,
  Box,
  Button,
  Card,
  ColorSwatch,
  Fieldset,
  Group,
  Image,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  UnstyledButton,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent, RefObject } from "react";
import { Link, useLocation, useParams } from "wouter";

import { ApiError } from "../api/client";
import {
  ACCEPTED_IMAGE_FILES,
  assetContentUrl,
  brandKitPath,
  createBrandKit,
  deleteBrandKit,
  updateBrandKit,
} from "../api/content";
import type { Asset, AssetList, BrandKit, BrandKitList } from "../api/content";
import { canAct } from "../api/session";
import { AssetLibraryEditor, newRowKey } from "../components/AssetLibraryEditor";
import type { FieldLookup, LibraryRow } from "../components/AssetLibraryEditor";
import { AssetPicker } from "../components/AssetPicker";
import {
  changeFromForm,
  checkForm,
  domId,
  emptyForm,
  formFromKit,
  orderFontRoles,
  problemsOfError,
} from "../components/BrandKitModel";
import type { KitForm, Problem } from "../components/BrandKitModel";
import {
  ColorsSection,
  FontsSection,
  NamedAssetsSection,
  SectionError,
  SectionTitle,
} from "../components/BrandKitSections";
import { Dialog } from "../components/Dialog";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

const brandKitsPath = "/api/v1/brand-kits";

// ---------------------------------------------------------------------------
// The list.

function KitSwatches({ kit }: { kit: BrandKit }) {
  const colors = Object.entries(kit.colors ?? {});
  if (colors.length === 0) {
    return (
      <Text size="xs" c="dimmed">
        No colours
      </Text>
    );
  }
  return (
    <Group gap={6}>
      {colors.map(([name, value]) => (
        <Group key={name} gap={4} wrap="nowrap">
          <ColorSwatch color={value} size={18} aria-hidden />
          <Text size="xs" c="dimmed">
            {name} {value}
          </Text>
        </Group>
      ))}
    </Group>
  );
}

function KitCard({ kit }: { kit: BrandKit }) {
  const fonts = orderFontRoles(Object.entries(kit.fonts ?? {}))
    .map(([role, font]) => `${role}: ${font.family}`)
    .join(", ");
  const libraries = Object.entries(kit.libraries ?? {})
    .map(([name, entries]) => `${name} (${Object.keys(entries).length})`)
    .join(", ");
  return (
    <Card
      withBorder
      padding="md"
      radius="md"
      role="listitem"
      aria-label={kit.name}
      data-testid="brandkit-card"
      data-kit-id={kit.id}
    >
      <Group wrap="nowrap" align="flex-start" gap="md">
        <Box
          w={72}
          h={72}
          style={{
            flex: "none",
            borderRadius: 8,
            background: "var(--mantine-color-gray-1)",
            display: "flex",
            alignItems: "center",
            justifyContent: "center",
          }}
        >
          {kit.logo_asset_id ? (
            <Image
              src={assetContentUrl(kit.logo_asset_id)}
              alt={`${kit.name} logo`}
              w={64}
              h={64}
              fit="contain"
            />
          ) : (
            <Text size="xs" c="dimmed">
              No logo
            </Text>
          )}
        </Box>
        <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
          <Anchor component={Link} href={`/brand-kits/${encodeURIComponent(kit.id)}`} fw={600}>
            {kit.name}
          </Anchor>
          {kit.handle ? (
            <Text size="sm" c="dimmed">
              {kit.handle}
            </Text>
          ) : null}
          <KitSwatches kit={kit} />
          {fonts ? (
            <Text size="xs" c="dimmed">
              Fonts: {fonts}
            </Text>
          ) : null}
          {libraries ? (
            <Text size="xs" c="dimmed">
              Libraries: {libraries}
            </Text>
          ) : null}
          <Text size="xs" c="dimmed">
            Updated {formatTime(kit.updated_at_ms)}
          </Text>
        </Stack>
      </Group>
    </Card>
  );
}

function BrandKitList() {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const { data, error, loading, reload } = useResource<BrandKitList>(brandKitsPath);

  const newButton = canEdit ? (
    <Button component={Link} href="/brand-kits/new" data-testid="brandkit-new">
      New brand kit
    </Button>
  ) : null;

  let body;
  if (loading && data === undefined) {
    body = <Loading label="Loading brand kits" />;
  } else if (error) {
    body = (
      <ErrorAlert
        error={error}
        title="Could not load the brand kits"
        onRetry={() => void reload()}
      />
    );
  } else if (!data || data.brand_kits.length === 0) {
    body = (
      <EmptyState title="No brand kits yet" action={newButton}>
        A brand kit holds a client's colours, fonts, logo and image libraries such as team
        crests. Templates use them as {"{{brand.primary}}"} or {"{{home|asset:crests}}"}.
      </EmptyState>
    );
  } else {
    body = (
      <SimpleGrid
        cols={{ base: 1, sm: 2, xl: 3 }}
        data-testid="brandkit-list"
        role="list"
        aria-label="Brand kits"
      >
        {data.brand_kits.map((kit) => (
          <KitCard key={kit.id} kit={kit} />
        ))}
      </SimpleGrid>
    );
  }

  return (
    <>
      <PageHeader
        title="Brand kits"
        description="Colours, fonts, logos and image libraries that templates render with."
        actions={data && data.brand_kits.length > 0 ? newButton : null}
      />
      {body}
    </>
  );
}

// ---------------------------------------------------------------------------
// The editor.

function ProblemList({
  problems,
  title,
  summaryRef,
}: {
  problems: Problem[];
  title: string;
  summaryRef: RefObject<HTMLDivElement | null>;
}) {
  return (
    <Alert
      color="red"
      variant="light"
      title={title}
      role="alert"
      ref={summaryRef}
      tabIndex={-1}
      data-testid="brandkit-problems"
    >
      <Stack gap={2} component="ul" style={{ margin: 0, paddingLeft: "1.2em" }}>
        {problems.map((problem, index) => (
          <Text size="sm" component="li" key={index}>
            {problem.field ? (
              <UnstyledButton
                onClick={() => document.getElementById(domId(problem.field!))?.focus()}
                style={{ textDecoration: "underline", fontSize: "inherit" }}
              >
                {problem.where}
              </UnstyledButton>
            ) : (
              <code>{problem.where}</code>
            )}
            : {problem.message}
          </Text>
        ))}
      </Stack>
    </Alert>
  );
}

function DeleteKitModal({
  kit,
  opened,
  onClose,
}: {
  kit: BrandKit;
  opened: boolean;
  onClose: () => void;
}) {
  const [, navigate] = useLocation();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  function close() {
    setError(null);
    onClose();
  }

  async function confirm() {
    setBusy(true);
    setError(null);
    try {
      await deleteBrandKit(kit.id);
      notifications.show({ color: "green", message: `Deleted the brand kit ${kit.name}` });
      navigate("/brand-kits");
    } catch (caught) {
      setError(caught);
      setBusy(false);
    }
  }

  const inUse = error instanceof ApiError && error.status === 409;
  return (
    <Dialog opened={opened} onClose={close} title="Delete brand kit" centered>
      <Stack gap="md">
        <Text size="sm">
          Delete <b>{kit.name}</b>? Its assets stay under Assets.
        </Text>
        {error ? (
          <ErrorAlert
            error={error}
            title={inUse ? "A campaign uses this brand kit" : "Could not delete the brand kit"}
          />
        ) : null}
        {inUse ? (
          <Text size="sm" c="dimmed">
            Give that campaign another brand kit or delete the campaign, then try again.
          </Text>
        ) : null}
        <Group justify="flex-end" gap="sm">
          <Button variant="default" onClick={close}>
            Cancel
          </Button>
          <Button
            color="red"
            onClick={() => void confirm()}
            loading={busy}
            data-testid="brandkit-delete-confirm"
          >
            Delete
          </Button>
        </Group>
      </Stack>
    </Dialog>
  );
}

function BrandKitForm({
  kit,
  initialAssets,
  canEdit,
}: {
  kit: BrandKit | null;
  initialAssets: Asset[];
  canEdit: boolean;
}) {
  const [, navigate] = useLocation();
  const [form, setForm] = useState<KitForm>(() => (kit ? formFromKit(kit) : emptyForm()));
  const [saved, setSaved] = useState(() => JSON.stringify(changeFromForm(form)));
  const [assets, setAssets] = useState<Asset[]>(initialAssets);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [saveError, setSaveError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [current, setCurrent] = useState<BrandKit | null>(kit);
  const summaryRef = useRef<HTMLDivElement>(null);

  const dirty = JSON.stringify(changeFromForm(form)) !== saved;

  // Ask before leaving the page with unsaved changes.
  useEffect(() => {
    if (!dirty) {
      return;
    }
    const warn = (event: BeforeUnloadEvent) => event.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const addAsset = useCallback((asset: Asset) => {
    setAssets((list) =>
      [...list.filter((item) => item.id !== asset.id), asset].sort((a, b) =>
        a.name.localeCompare(b.name),
      ),
    );
  }, []);

  const errors = useMemo(() => {
    const byField = new Map<string, string[]>();
    for (const problem of problems) {
      if (problem.field) {
        byField.set(problem.field, [...(byField.get(problem.field) ?? []), problem.message]);
      }
    }
    return byField;
  }, [problems]);

  const fields: FieldLookup = {
    error: (field) => errors.get(field)?.join("; "),
    id: domId,
  };

  function update(change: Partial<KitForm>) {
    setForm((previous) => ({ ...previous, ...change }));
  }

  // Returns the change function of the row list SECTION.
  function rowsOf<K extends "colors" | "fonts" | "assets" | "libraries">(section: K) {
    return (change: (rows: KitForm[K]) => KitForm[K]) =>
      setForm((previous) => ({ ...previous, [section]: change(previous[section]) }));
  }

  function changeLibrary(key: string, change: (library: LibraryRow) => LibraryRow) {
    rowsOf("libraries")((libraries) =>
      libraries.map((library) => (library.key === key ? change(library) : library)),
    );
  }

  function showProblems(found: Problem[]) {
    setProblems(found);
    // After render, so that the summary exists to take focus.
    requestAnimationFrame(() => summaryRef.current?.focus());
  }

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!canEdit || saving) {
      return;
    }
    setSaveError(null);
    const found = checkForm(form);
    if (found.length > 0) {
      showProblems(found);
      return;
    }
    setProblems([]);
    setSaving(true);
    const change = changeFromForm(form);
    try {
      const result = current
        ? await updateBrandKit(current.id, change)
        : await createBrandKit(change);
      setSaved(JSON.stringify(change));
      setCurrent(result);
      notifications.show({ color: "green", message: `Saved the brand kit ${result.name}` });
      if (!current) {
        navigate(`/brand-kits/${encodeURIComponent(result.id)}`, { replace: true });
      }
    } catch (caught) {
      setSaveError(caught);
      if (caught instanceof ApiError && caught.details.length > 0) {
        showProblems(problemsOfError(caught, form));
      } else {
        requestAnimationFrame(() => summaryRef.current?.focus());
      }
    } finally {
      setSaving(false);
    }
  }

  const title = current ? current.name : "New brand kit";
  let saveState = "Not saved yet";
  if (dirty) {
    saveState = "Unsaved changes";
  } else if (current) {
    saveState = "All changes saved";
  }
  const serverProblems = saveError instanceof ApiError && saveError.details.length > 0;

  return (
    <>
      <PageHeader
        title={title}
        description={
          <>
            <Anchor component={Link} href="/brand-kits" size="sm">
              All brand kits
            </Anchor>
            {current ? ` · updated ${formatTime(current.updated_at_ms)}` : null}
          </>
        }
        actions={
          current && canEdit ? (
            <Button
              variant="light"
              color="red"
              onClick={() => setDeleting(true)}
              data-testid="brandkit-delete"
            >
              Delete brand kit
            </Button>
          ) : null
        }
      />
      {!canEdit ? (
        <Alert variant="light" color="gray" mb="md">
          You can view this brand kit. An editor or owner of your agency can change it.
        </Alert>
      ) : null}

      <form onSubmit={(event) => void save(event)} noValidate aria-label="Brand kit">
        <Fieldset variant="unstyled" disabled={!canEdit || saving}>
          <Stack gap="xl">
            {problems.length > 0 ? (
              <ProblemList
                problems={problems}
                title={
                  serverProblems
                    ? "The brand kit was not saved. Fix these and save again:"
                    : "Fix these before saving:"
                }
                summaryRef={summaryRef}
              />
            ) : saveError ? (
              <div ref={summaryRef} tabIndex={-1}>
                <ErrorAlert error={saveError} title="The brand kit was not saved" />
              </div>
            ) : null}

            <Stack gap="sm">
              <SectionTitle>Name</SectionTitle>
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                <TextInput
                  label="Brand kit name"
                  required
                  placeholder="Match Day"
                  value={form.name}
                  onChange={(event) => update({ name: event.currentTarget.value })}
                  error={fields.error("name")}
                  id={domId("name")}
                  data-testid="brandkit-name"
                  autoFocus={!kit}
                />
                <TextInput
                  label="Handle"
                  description="The social media handle templates show, such as @demosports."
                  placeholder="@demosports"
                  value={form.handle}
                  onChange={(event) => update({ handle: event.currentTarget.value })}
                  error={fields.error("handle")}
                  id={domId("handle")}
                  data-testid="brandkit-handle"
                />
              </SimpleGrid>
            </Stack>

            <ColorsSection rows={form.colors} onChange={rowsOf("colors")} fields={fields} />

            <FontsSection
              rows={form.fonts}
              onChange={rowsOf("fonts")}
              fields={fields}
              assets={assets}
              onUploaded={addAsset}
              disabled={!canEdit}
            />

            <Stack gap="sm">
              <SectionTitle hint="An image asset that templates show with {{brand.logo}}.">
                Logo
              </SectionTitle>
              <AssetPicker
                label="Logo"
                assets={assets}
                kinds={["image"]}
                value={form.logo}
                onChange={(logo) => update({ logo })}
                error={fields.error("logo")}
                id={domId("logo")}
                placeholder="Choose an uploaded image"
                preview={96}
                disabled={!canEdit}
                testId="brandkit-logo"
                upload={{
                  label: "Upload logo",
                  accept: ACCEPTED_IMAGE_FILES,
                  testId: "brandkit-logo-upload",
                  onUploaded: addAsset,
                }}
              />
            </Stack>

            <NamedAssetsSection
              rows={form.assets}
              onChange={rowsOf("assets")}
              fields={fields}
              assets={assets}
              onUploaded={addAsset}
              disabled={!canEdit}
            />

            <Stack gap="sm">
              <SectionTitle
                hint={
                  "A library maps names, as a column of the data gives them, to images. " +
                  "A template shows the crest of a row's home team with {{home|asset:crests}}."
                }
              >
                Libraries
              </SectionTitle>
              <SectionError message={fields.error("libraries")} />
              {form.libraries.map((library) => (
                <AssetLibraryEditor
                  key={library.key}
                  library={library}
                  assets={assets}
                  fields={fields}
                  onChange={(change) => changeLibrary(library.key, change)}
                  onRemove={() =>
                    rowsOf("libraries")((rows) => rows.filter((row) => row.key !== library.key))
                  }
                  onUploaded={addAsset}
                  disabled={!canEdit}
                />
              ))}
              <Group>
                <Button
                  variant="light"
                  onClick={() =>
                    update({
                      libraries: [...form.libraries, { key: newRowKey(), name: "", entries: [] }],
                    })
                  }
                  data-testid="brandkit-library-add"
                >
                  Add library
                </Button>
              </Group>
            </Stack>

            {canEdit ? (
              <Paper
                withBorder
                p="sm"
                radius="md"
                shadow="sm"
                style={{ position: "sticky", bottom: 8, zIndex: 2 }}
              >
                <Group justify="space-between" gap="sm">
                  <Text size="sm" c={dirty ? undefined : "dimmed"} aria-live="polite">
                    {saveState}
                  </Text>
                  <Group gap="sm">
                    <Button component={Link} href="/brand-kits" variant="default">
                      {dirty ? "Discard" : "Back"}
                    </Button>
                    <Button type="submit" loading={saving} data-testid="brandkit-save">
                      {current ? "Save changes" : "Create brand kit"}
                    </Button>
                  </Group>
                </Group>
              </Paper>
            ) : null}
          </Stack>
        </Fieldset>
      </form>

      {current ? (
        <DeleteKitModal kit={current} opened={deleting} onClose={() => setDeleting(false)} />
      ) : null}
    </>
  );
}

function BrandKitEditor({ id }: { id: string }) {
  const { me } = useSession();
  const canEdit = canAct(me, "editor");
  const isNew = id === "new";
  const kit = useResource<BrandKit>(isNew ? null : brandKitPath(id));
  const assets = useResource<AssetList>("/api/v1/assets");

  if (isNew && !canEdit) {
    return (
      <>
        <PageHeader title="New brand kit" />
        <Alert color="gray" variant="light">
          Only editors and owners can create brand kits.{" "}
          <Anchor component={Link} href="/brand-kits">
            Back to the brand kits
          </Anchor>
        </Alert>
      </>
    );
  }
  if (kit.error) {
    const missing = kit.error instanceof ApiError && kit.error.status === 404;
    return (
      <>
        <PageHeader title="Brand kit" />
        <ErrorAlert
          error={kit.error}
          title={missing ? "This brand kit does not exist" : "Could not load the brand kit"}
          onRetry={missing ? undefined : () => void kit.reload()}
        />
        <Anchor component={Link} href="/brand-kits" mt="md" display="inline-block">
          Back to the brand kits
        </Anchor>
      </>
    );
  }
  if (assets.error) {
    return (
      <>
        <PageHeader title={isNew ? "New brand kit" : "Brand kit"} />
        <ErrorAlert
          error={assets.error}
          title="Could not load the assets the brand kit can use"
          onRetry={() => void assets.reload()}
        />
      </>
    );
  }
  if ((!isNew && kit.data === undefined) || assets.data === undefined) {
    return <Loading label="Loading the brand kit" />;
  }
  return (
    <BrandKitForm
      kit={isNew ? null : (kit.data ?? null)}
      initialAssets={assets.data.assets}
      canEdit={canEdit}
    />
  );
}

// The request of the brand kit list, asked for at a click on its link.
export function preload(): string[] {
  return [brandKitsPath];
}

export default function BrandKitsPage() {
  const params = useParams<{ id?: string }>();
  if (params.id) {
    // Keyed, so that moving from "new" to the saved kit's address starts afresh.
    return <BrandKitEditor key={params.id} id={params.id} />;
  }
  return <BrandKitList />;
}
