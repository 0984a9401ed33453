// The brand kit editor's form model: rows with stable keys, so that inputs
// keep focus while a name changes, the conversions to and from the API's
// maps, the checks before saving, and the mapping of 422 pointers to inputs.
import { ApiError } from "../api/client";
import { pointerTokens } from "../api/content";
import type { BrandKit, BrandKitChange } from "../api/content";
import { newRowKey } from "./AssetLibraryEditor";
import type { LibraryRow } from "./AssetLibraryEditor";

export interface ColorRow {
  key: string;
  name: string;
  value: string;
}

export interface FontRow {
  key: string;
  role: string;
  family: string;
  weight: string; // "" for the family's default
  assetId: string;
}

export interface NamedAssetRow {
  key: string;
  name: string;
  assetId: string;
}

export interface KitForm {
  name: string;
  handle: string;
  colors: ColorRow[];
  fonts: FontRow[];
  logo: string;
  assets: NamedAssetRow[];
  libraries: LibraryRow[];
}

export function emptyForm(): KitForm {
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

// Font roles in the order the editor shows them; other roles follow by name.
const fontRoleOrder = ["display", "body"];

// Returns ROLES ordered as the editor shows them. The API returns object
// members sorted by name, which would put body above display.
export function orderFontRoles<T>(entries: [string, T][]): [string, T][] {
  const rank = (role: string) => {
    const index = fontRoleOrder.indexOf(role);
    return index === -1 ? fontRoleOrder.length : index;
  };
  return [...entries].sort(([a], [b]) => rank(a) - rank(b) || a.localeCompare(b));
}

export function formFromKit(kit: BrandKit): KitForm {
  return {
    name: kit.name,
    handle: kit.handle ?? "",
    colors: Object.entries(kit.colors ?? {}).map(([name, value]) => ({
      key: newRowKey(),
      name,
      value,
    })),
    fonts: orderFontRoles(Object.entries(kit.fonts ?? {})).map(([role, font]) => ({
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
export function changeFromForm(form: KitForm): BrandKitChange {
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
export interface Problem {
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
export function checkForm(form: KitForm): Problem[] {
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
export function fieldOfPointer(pointer: string, form: KitForm): string | null {
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

export function problemsOfError(error: ApiError, form: KitForm): Problem[] {
  return error.details.map((detail) => ({
    field: detail.pointer ? fieldOfPointer(detail.pointer, form) : null,
    where: detail.pointer || "Brand kit",
    message: detail.message,
  }));
}

export function domId(field: string): string {
  return `brandkit-field-${field.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}
