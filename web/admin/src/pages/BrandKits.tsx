// Brand kits: the list at /brand-kits, and at /brand-kits/:id ("new" for a new
// kit) the editor of a kit's name, colours, fonts, logo, named assets and
// asset libraries, with the server's 422 problems shown next to their inputs.
import {
  Alert,
  Anchor,
  Box,
  Button,
  Card,
  ColorInput,
  ColorSwatch,
  Fieldset,
  Group,
  Image,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { FormEvent, ReactNode, RefObject } from "react";
import { Link, useLocation, useParams } from "wouter";

import { ApiError, describeError } from "../api/client";
import {
  ACCEPTED_FONT_FILES,
  ACCEPTED_IMAGE_FILES,
  assetContentUrl,
  brandKitPath,
  createBrandKit,
  deleteBrandKit,
  pointerTokens,
  updateBrandKit,
} from "../api/content";
import type { Asset, AssetList, BrandKit, BrandKitChange, BrandKitList } from "../api/content";
import { canAct } from "../api/session";
import { AssetLibraryEditor, newRowKey } from "../components/AssetLibraryEditor";
import type { FieldLookup, LibraryRow } from "../components/AssetLibraryEditor";
import { AssetPicker } from "../components/AssetPicker";
import { formatTime } from "../components/format";
import { useResource } from "../components/resource";
import { EmptyState, ErrorAlert, Loading, PageHeader } from "../components/states";
import { useSession } from "../session";

// ---------------------------------------------------------------------------
// The form model: rows with stable keys, so that inputs keep focus while a
// name changes, and conversions to and from the API's maps.

interface ColorRow {
  key: string;
  name: string;
  value: string;
}

interface FontRow {
  key: string;
  role: string;
  family: string;
  weight: string; // "" for the family's default
  assetId: string;
}

interface NamedAssetRow {
  key: string;
  name: string;
  assetId: string;
}

interface KitForm {
  name: string;
  handle: string;
  colors: ColorRow[];
  fonts: FontRow[];
  logo: string;
  assets: NamedAssetRow[];
  libraries: LibraryRow[];
}

function emptyForm(): KitForm {
  return {
    name: "",
    handle: "",
    colors: [
      { key: newRowKey(), name: "primary", value: "" },
      { key: newRowKey(), name: "secondary", value: "" },
    ],
    fonts: [
      { key: newRowKey(), role: "display", family: "", weight: "", assetId: "" },
      { key: newRowKey(), role: "body", family: "", weight: "", assetId: "" },
    ],
    logo: "",
    assets: [],
    libraries: [],
  };
}

function formFromKit(kit: BrandKit): KitForm {
  return {
    name: kit.name,
    handle: kit.handle ?? "",
    colors: Object.entries(kit.colors ?? {}).map(([name, value]) => ({
      key: newRowKey(),
      name,
      value,
    })),
    fonts: Object.entries(kit.fonts ?? {}).map(([role, font]) => ({
      key: newRowKey(),
      role,
      family: font.family,
      weight: font.weight ? String(font.weight) : "",
      assetId: font.asset_id ?? "",
    })),
    logo: kit.logo_asset_id ?? "",
    assets: Object.entries(kit.assets ?? {}).map(([name, assetId]) => ({
      key: newRowKey(),
      name,
      assetId,
    })),
    libraries: Object.entries(kit.libraries ?? {}).map(([name, entries]) => ({
      key: newRowKey(),
      name,
      entries: Object.entries(entries).map(([entry, assetId]) => ({
        key: newRowKey(),
        name: entry,
        assetId,
      })),
    })),
  };
}

// The request body of FORM. Empty optional maps are left out, so that a kit
// without libraries also saves on servers that predate them.
function changeFromForm(form: KitForm): BrandKitChange {
  const change: BrandKitChange = { name: form.name.trim() };
  if (form.handle.trim()) {
    change.handle = form.handle.trim();
  }
  if (form.colors.length > 0) {
    change.colors = Object.fromEntries(
      form.colors.map((row) => [row.name.trim(), row.value.trim()]),
    );
  }
  if (form.fonts.length > 0) {
    change.fonts = Object.fromEntries(
      form.fonts.map((row) => [
        row.role.trim(),
        {
          family: row.family.trim(),
          ...(row.weight ? { weight: Number(row.weight) } : {}),
          ...(row.assetId ? { asset_id: row.assetId } : {}),
        },
      ]),
    );
  }
  if (form.logo) {
    change.logo_asset_id = form.logo;
  }
  if (form.assets.length > 0) {
    change.assets = Object.fromEntries(form.assets.map((row) => [row.name.trim(), row.assetId]));
  }
  if (form.libraries.length > 0) {
    change.libraries = Object.fromEntries(
      form.libraries.map((library) => [
        library.name.trim(),
        Object.fromEntries(library.entries.map((entry) => [entry.name.trim(), entry.assetId])),
      ]),
    );
  }
  return change;
}

// A problem to show: FIELD is the input it belongs to (null: none matches),
// WHERE names the place for the summary list.
interface Problem {
  field: string | null;
  where: string;
  message: string;
}

// Adds a problem for each empty or repeated name among ROWS.
function checkNames<T extends { key: string }>(
  rows: T[],
  nameOf: (row: T) => string,
  field: (row: T) => string,
  where: (row: T, index: number) => string,
  thing: string,
  problems: Problem[],
) {
  const seen = new Set<string>();
  rows.forEach((row, index) => {
    const name = nameOf(row).trim();
    if (name === "") {
      problems.push({ field: field(row), where: where(row, index), message: `Enter the ${thing}` });
    } else if (seen.has(name)) {
      problems.push({
        field: field(row),
        where: where(row, index),
        message: `Another row already uses the ${thing} “${name}”`,
      });
    }
    seen.add(name);
  });
}

// Checks what the browser can check before saving: required values and
// names that would collide as JSON keys. The server checks the rest.
function checkForm(form: KitForm): Problem[] {
  const problems: Problem[] = [];
  if (form.name.trim() === "") {
    problems.push({ field: "name", where: "Name", message: "Enter the brand kit's name" });
  }
  checkNames(
    form.colors,
    (row) => row.name,
    (row) => `color:${row.key}:name`,
    (_, index) => `Colour ${index + 1}`,
    "colour name",
    problems,
  );
  form.colors.forEach((row, index) => {
    if (row.value.trim() === "") {
      problems.push({
        field: `color:${row.key}`,
        where: `Colour ${row.name.trim() || index + 1}`,
        message: "Enter a colour such as #0B1D51, or remove the row",
      });
    }
  });
  checkNames(
    form.fonts,
    (row) => row.role,
    (row) => `font:${row.key}:role`,
    (_, index) => `Font ${index + 1}`,
    "font role",
    problems,
  );
  form.fonts.forEach((row, index) => {
    if (row.family.trim() === "") {
      problems.push({
        field: `font:${row.key}:family`,
        where: `Font ${row.role.trim() || index + 1}`,
        message: "Enter the font family, such as Inter, or remove the font",
      });
    }
  });
  checkNames(
    form.assets,
    (row) => row.name,
    (row) => `asset:${row.key}:name`,
    (_, index) => `Named asset ${index + 1}`,
    "asset name",
    problems,
  );
  form.assets.forEach((row, index) => {
    if (!row.assetId) {
      problems.push({
        field: `asset:${row.key}`,
        where: `Named asset ${row.name.trim() || index + 1}`,
        message: "Choose or upload an asset, or remove the row",
      });
    }
  });
  checkNames(
    form.libraries,
    (row) => row.name,
    (row) => `library:${row.key}`,
    (_, index) => `Library ${index + 1}`,
    "library name",
    problems,
  );
  for (const library of form.libraries) {
    const libraryName = library.name.trim() || "without a name";
    checkNames(
      library.entries,
      (entry) => entry.name,
      (entry) => `entry:${library.key}:${entry.key}:name`,
      (_, index) => `Library ${libraryName}, entry ${index + 1}`,
      "entry name",
      problems,
    );
    for (const entry of library.entries) {
      if (!entry.assetId) {
        problems.push({
          field: `entry:${library.key}:${entry.key}`,
          where: `Library ${libraryName}, ${entry.name.trim() || "entry without a name"}`,
          message: "Choose an image, or remove the entry",
        });
      }
    }
  }
  return problems;
}

// Maps a 422 detail's JSON pointer to the input it concerns, by the names
// in the form now: /colors/primary is the colour row called primary.
function fieldOfPointer(pointer: string, form: KitForm): string | null {
  const [section, name, member] = pointerTokens(pointer);
  const byName = <T,>(rows: T[], nameOf: (row: T) => string) =>
    rows.find((row) => nameOf(row).trim() === name);
  switch (section) {
    case "name":
      return "name";
    case "handle":
      return "handle";
    case "logo_asset_id":
      return "logo";
    case "colors": {
      const row = name === undefined ? undefined : byName(form.colors, (item) => item.name);
      return row ? `color:${row.key}` : "colors";
    }
    case "fonts": {
      const row = name === undefined ? undefined : byName(form.fonts, (item) => item.role);
      if (!row) {
        return "fonts";
      }
      if (member === "weight") {
        return `font:${row.key}:weight`;
      }
      if (member === "asset_id" || member === "file") {
        return `font:${row.key}:asset`;
      }
      return member === undefined ? `font:${row.key}:role` : `font:${row.key}:family`;
    }
    case "assets": {
      const row = name === undefined ? undefined : byName(form.assets, (item) => item.name);
      return row ? `asset:${row.key}` : "assets";
    }
    case "libraries": {
      const library = name === undefined ? undefined : byName(form.libraries, (item) => item.name);
      if (!library) {
        return "libraries";
      }
      if (member === undefined) {
        return `library:${library.key}`;
      }
      const entry = library.entries.find((item) => item.name.trim() === member);
      return entry ? `entry:${library.key}:${entry.key}` : `library:${library.key}`;
    }
    default:
      return null;
  }
}

function problemsOfError(error: ApiError, form: KitForm): Problem[] {
  return error.details.map((detail) => ({
    field: detail.pointer ? fieldOfPointer(detail.pointer, form) : null,
    where: detail.pointer || "Brand kit",
    message: detail.message,
  }));
}

function domId(field: string): string {
  return `brandkit-field-${field.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

const weightOptions = [
  { value: "", label: "Default" },
  { value: "100", label: "100 Thin" },
  { value: "200", label: "200 Extra light" },
  { value: "300", label: "300 Light" },
  { value: "400", label: "400 Regular" },
  { value: "500", label: "500 Medium" },
  { value: "600", label: "600 Semi-bold" },
  { value: "700", label: "700 Bold" },
  { value: "800", label: "800 Extra bold" },
  { value: "900", label: "900 Black" },
];

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
  const fonts = Object.entries(kit.fonts ?? {})
    .map(([role, font]) => `${role}: ${font.family}`)
    .join(", ");
  const libraries = Object.entries(kit.libraries ?? {})
    .map(([name, entries]) => `${name} (${Object.keys(entries).length})`)
    .join(", ");
  return (
    <Card withBorder padding="md" radius="md" data-testid="brandkit-card" data-kit-id={kit.id}>
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
  const { data, error, loading, reload } = useResource<BrandKitList>("/api/v1/brand-kits");

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
      <ErrorAlert error={error} title="Could not load the brand kits" onRetry={() => void reload()} />
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
      <SimpleGrid cols={{ base: 1, sm: 2, xl: 3 }} data-testid="brandkit-list" aria-label="Brand kits">
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

function SectionTitle({ children, hint }: { children: ReactNode; hint?: ReactNode }) {
  return (
    <Stack gap={2}>
      <Title order={2} size="h4">
        {children}
      </Title>
      {hint ? (
        <Text size="sm" c="dimmed">
          {hint}
        </Text>
      ) : null}
    </Stack>
  );
}

function SectionError({ message }: { message: ReactNode }) {
  if (!message) {
    return null;
  }
  return (
    <Text size="sm" c="red" role="alert">
      {message}
    </Text>
  );
}

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
    <Modal opened={opened} onClose={close} title="Delete brand kit" centered>
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
    </Modal>
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

  function updateRows<K extends "colors" | "fonts" | "assets">(
    section: K,
    key: string,
    change: Partial<KitForm[K][number]>,
  ) {
    setForm((previous) => ({
      ...previous,
      [section]: (previous[section] as KitForm[K][number][]).map((row) =>
        row.key === key ? { ...row, ...change } : row,
      ),
    }));
  }

  function removeRow(section: "colors" | "fonts" | "assets" | "libraries", key: string) {
    setForm((previous) => ({
      ...previous,
      [section]: (previous[section] as { key: string }[]).filter((row) => row.key !== key),
    }));
  }

  function changeLibrary(key: string, change: (library: LibraryRow) => LibraryRow) {
    setForm((previous) => ({
      ...previous,
      libraries: previous.libraries.map((library) =>
        library.key === key ? change(library) : library,
      ),
    }));
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
                    ? `The brand kit was not saved: ${describeError(saveError)}`
                    : "Fix these before saving"
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

            <Stack gap="sm">
              <SectionTitle hint="Templates use a colour as {{brand.NAME}}, such as {{brand.primary}}.">
                Colours
              </SectionTitle>
              <SectionError message={fields.error("colors")} />
              {form.colors.map((row, index) => (
                <Group key={row.key} align="flex-start" gap="sm" wrap="wrap" data-testid="brandkit-color">
                  <TextInput
                    label={`Colour ${index + 1} name`}
                    placeholder="primary"
                    value={row.name}
                    onChange={(event) =>
                      updateRows("colors", row.key, { name: event.currentTarget.value })
                    }
                    error={fields.error(`color:${row.key}:name`)}
                    id={domId(`color:${row.key}:name`)}
                    data-testid={`brandkit-color-name-${index}`}
                    style={{ flex: "1 1 160px" }}
                  />
                  <ColorInput
                    label={`Colour ${index + 1} value`}
                    format="hex"
                    placeholder="#0B1D51"
                    value={row.value}
                    onChange={(value) => updateRows("colors", row.key, { value })}
                    error={fields.error(`color:${row.key}`)}
                    id={domId(`color:${row.key}`)}
                    data-testid={`brandkit-color-value-${index}`}
                    style={{ flex: "1 1 200px" }}
                  />
                  <Button
                    variant="subtle"
                    color="red"
                    mt={25}
                    onClick={() => removeRow("colors", row.key)}
                    aria-label={`Remove colour ${row.name.trim() || index + 1}`}
                  >
                    Remove
                  </Button>
                </Group>
              ))}
              <Group>
                <Button
                  variant="light"
                  onClick={() =>
                    update({ colors: [...form.colors, { key: newRowKey(), name: "", value: "" }] })
                  }
                  data-testid="brandkit-color-add"
                >
                  Add colour
                </Button>
              </Group>
            </Stack>

            <Stack gap="sm">
              <SectionTitle hint="Templates use a font's family as {{brand.fonts.ROLE}}. Without a font file, the render workers use an installed family of that name.">
                Fonts
              </SectionTitle>
              <SectionError message={fields.error("fonts")} />
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                {form.fonts.map((row, index) => {
                  const role = row.role.trim() || `font ${index + 1}`;
                  return (
                    <Paper key={row.key} withBorder p="md" radius="md" data-testid="brandkit-font">
                      <Stack gap="sm">
                        <Group align="flex-start" gap="sm" wrap="nowrap">
                          <TextInput
                            label="Role"
                            description="Such as display or body"
                            value={row.role}
                            onChange={(event) =>
                              updateRows("fonts", row.key, { role: event.currentTarget.value })
                            }
                            error={fields.error(`font:${row.key}:role`)}
                            id={domId(`font:${row.key}:role`)}
                            data-testid={`brandkit-font-role-${index}`}
                            style={{ flex: 1 }}
                          />
                          <Button
                            variant="subtle"
                            color="red"
                            mt={48}
                            onClick={() => removeRow("fonts", row.key)}
                            aria-label={`Remove the ${role} font`}
                          >
                            Remove
                          </Button>
                        </Group>
                        <TextInput
                          label={`Family of the ${role} font`}
                          required
                          placeholder={index === 0 ? "Bebas Neue" : "Inter"}
                          value={row.family}
                          onChange={(event) =>
                            updateRows("fonts", row.key, { family: event.currentTarget.value })
                          }
                          error={fields.error(`font:${row.key}:family`)}
                          id={domId(`font:${row.key}:family`)}
                          data-testid={`brandkit-font-${row.role.trim() || index}-family`}
                        />
                        <Select
                          label={`Weight of the ${role} font`}
                          data={weightOptions}
                          value={row.weight}
                          onChange={(value) => updateRows("fonts", row.key, { weight: value ?? "" })}
                          allowDeselect={false}
                          error={fields.error(`font:${row.key}:weight`)}
                          id={domId(`font:${row.key}:weight`)}
                          data-testid={`brandkit-font-${row.role.trim() || index}-weight`}
                        />
                        <AssetPicker
                          label={`Font file of the ${role} font`}
                          description="Optional: a TTF, OTF, WOFF or WOFF2 asset."
                          assets={assets}
                          kinds={["font"]}
                          value={row.assetId}
                          onChange={(assetId) => updateRows("fonts", row.key, { assetId })}
                          error={fields.error(`font:${row.key}:asset`)}
                          id={domId(`font:${row.key}:asset`)}
                          placeholder="Installed family"
                          preview={0}
                          disabled={!canEdit}
                          upload={{
                            label: "Upload font",
                            accept: ACCEPTED_FONT_FILES,
                            testId: `brandkit-font-${row.role.trim() || index}-upload`,
                            onUploaded: addAsset,
                          }}
                        />
                      </Stack>
                    </Paper>
                  );
                })}
              </SimpleGrid>
              <Group>
                <Button
                  variant="light"
                  onClick={() =>
                    update({
                      fonts: [
                        ...form.fonts,
                        { key: newRowKey(), role: "", family: "", weight: "", assetId: "" },
                      ],
                    })
                  }
                  data-testid="brandkit-font-add"
                >
                  Add font
                </Button>
              </Group>
            </Stack>

            <Stack gap="sm">
              <SectionTitle hint="An image asset; templates show it with {{brand.logo}}. SVG keeps it sharp at any size.">
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

            <Stack gap="sm">
              <SectionTitle hint="Other files by name, such as music; templates reach them as {{brand.NAME}}, for example {{brand.music}}.">
                Named assets
              </SectionTitle>
              <SectionError message={fields.error("assets")} />
              {form.assets.length === 0 ? (
                <Text size="sm" c="dimmed">
                  No named assets.
                </Text>
              ) : null}
              {form.assets.map((row, index) => (
                <Paper key={row.key} withBorder p="sm" radius="md" data-testid="brandkit-asset">
                  <Group align="flex-start" gap="sm" wrap="wrap">
                    <TextInput
                      label="Name"
                      placeholder="music"
                      value={row.name}
                      onChange={(event) =>
                        updateRows("assets", row.key, { name: event.currentTarget.value })
                      }
                      error={fields.error(`asset:${row.key}:name`)}
                      id={domId(`asset:${row.key}:name`)}
                      data-testid={`brandkit-asset-name-${index}`}
                      style={{ flex: "1 1 160px" }}
                    />
                    <Box style={{ flex: "3 1 320px" }}>
                      <AssetPicker
                        label={`Asset for ${row.name.trim() || `row ${index + 1}`}`}
                        assets={assets}
                        value={row.assetId}
                        onChange={(assetId) => updateRows("assets", row.key, { assetId })}
                        error={fields.error(`asset:${row.key}`)}
                        id={domId(`asset:${row.key}`)}
                        preview={40}
                        disabled={!canEdit}
                        testId={`brandkit-asset-${index}`}
                        upload={{
                          label: "Upload file",
                          testId: `brandkit-asset-upload-${index}`,
                          onUploaded: addAsset,
                        }}
                      />
                    </Box>
                    <Button
                      variant="subtle"
                      color="red"
                      mt={25}
                      onClick={() => removeRow("assets", row.key)}
                      aria-label={`Remove the named asset ${row.name.trim() || index + 1}`}
                    >
                      Remove
                    </Button>
                  </Group>
                </Paper>
              ))}
              <Group>
                <Button
                  variant="light"
                  onClick={() =>
                    update({ assets: [...form.assets, { key: newRowKey(), name: "", assetId: "" }] })
                  }
                  data-testid="brandkit-asset-add"
                >
                  Add named asset
                </Button>
              </Group>
            </Stack>

            <Stack gap="sm">
              <SectionTitle hint="A library maps names, as a column of the data gives them, to images: a template shows the crest of a row's home team with {{home|asset:crests}}.">
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
                  onRemove={() => removeRow("libraries", library.key)}
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

export default function BrandKitsPage() {
  const params = useParams<{ id?: string }>();
  if (params.id) {
    // Keyed, so that moving from "new" to the saved kit's address starts afresh.
    return <BrandKitEditor key={params.id} id={params.id} />;
  }
  return <BrandKitList />;
}
