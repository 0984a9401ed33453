// Assets and brand kits as docs/api.md "Assets, brand kits and templates"
// describes them: the types the API returns and the calls that change them.
import { api, send } from "./client";

export interface Asset {
  id: string;
  name: string;
  media_type: string;
  bytes: number;
  width: number; // pixels; 0 for fonts and for an SVG without a size or viewBox
  height: number;
  sha256: string;
  content_url: string;
  created_at_ms: number;
}

export interface AssetList {
  assets: Asset[];
}

// The largest upload POST /api/v1/assets accepts, which is the limit of
// audio. Images and fonts may have 20 MiB; the server checks that once it
// knows the type, and its 413 names the limit.
export const MAX_ASSET_BYTES = 50 * 1024 * 1024;

// The types the server recognizes from an upload's bytes, for the file picker's
// accept attribute. The server decides from the bytes, so this only filters the dialog.
export const ACCEPTED_ASSET_FILES = [
  ".png",
  ".jpg",
  ".jpeg",
  ".gif",
  ".webp",
  ".svg",
  ".ttf",
  ".otf",
  ".woff",
  ".woff2",
].join(",");

export const ACCEPTED_IMAGE_FILES = [".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg"].join(",");
export const ACCEPTED_FONT_FILES = [".ttf", ".otf", ".woff", ".woff2"].join(",");

export type AssetKind = "image" | "font" | "audio" | "other";

export function assetKind(mediaType: string): AssetKind {
  if (mediaType.startsWith("image/")) {
    return "image";
  }
  if (mediaType.startsWith("font/")) {
    return "font";
  }
  if (mediaType.startsWith("audio/")) {
    return "audio";
  }
  return "other";
}

const typeLabels: Record<string, string> = {
  "image/png": "PNG",
  "image/jpeg": "JPEG",
  "image/gif": "GIF",
  "image/webp": "WebP",
  "image/svg+xml": "SVG",
  "font/ttf": "TTF",
  "font/otf": "OTF",
  "font/woff": "WOFF",
  "font/woff2": "WOFF2",
};

// A short name of MEDIA_TYPE, such as "SVG", or the media type itself.
export function assetTypeLabel(mediaType: string): string {
  return typeLabels[mediaType] ?? mediaType;
}

export function assetContentUrl(id: string): string {
  return `/api/v1/assets/${encodeURIComponent(id)}/content`;
}

export function listAssets(signal?: AbortSignal): Promise<AssetList> {
  return api<AssetList>("/api/v1/assets", { signal });
}

// Uploads FILE as an asset called NAME. The body is the raw file, and the
// Content-Type declares no type, so that the server sniffs it from the bytes.
export function uploadAsset(file: Blob, name: string, signal?: AbortSignal): Promise<Asset> {
  return api<Asset>(`/api/v1/assets?name=${encodeURIComponent(name)}`, {
    method: "POST",
    body: file,
    contentType: "application/octet-stream",
    signal,
  });
}

export async function deleteAsset(id: string): Promise<void> {
  await send(`/api/v1/assets/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export interface BrandFont {
  family: string;
  weight?: number; // 100 to 900
  asset_id?: string; // a font asset
}

// A brand kit's fields as POST and PUT take them.
export interface BrandKitChange {
  name: string;
  handle?: string;
  colors?: Record<string, string>; // colour name to "#RRGGBB"
  fonts?: Record<string, BrandFont>; // role, such as display or body, to its font
  logo_asset_id?: string; // an image asset
  assets?: Record<string, string>; // name, as {{brand.NAME}} reaches it, to an asset id
  // Library name to a map of names, as a row's column gives them, to image
  // asset ids. A template looks a value up with {{home|asset:crests}}.
  libraries?: Record<string, Record<string, string>>;
}

export interface BrandKit extends BrandKitChange {
  id: string;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface BrandKitList {
  brand_kits: BrandKit[];
}

export function brandKitPath(id: string): string {
  return `/api/v1/brand-kits/${encodeURIComponent(id)}`;
}

export function createBrandKit(kit: BrandKitChange): Promise<BrandKit> {
  return api<BrandKit>("/api/v1/brand-kits", { method: "POST", json: kit });
}

export function updateBrandKit(id: string, kit: BrandKitChange): Promise<BrandKit> {
  return api<BrandKit>(brandKitPath(id), { method: "PUT", json: kit });
}

export async function deleteBrandKit(id: string): Promise<void> {
  await send(brandKitPath(id), { method: "DELETE" });
}

// Escapes TOKEN for a JSON pointer (RFC 6901): "~" as "~0" and "/" as "~1".
export function pointerToken(token: string): string {
  return token.replace(/~/g, "~0").replace(/\//g, "~1");
}

// Splits POINTER into its unescaped tokens: "/libraries/a~1b" is ["libraries", "a/b"].
export function pointerTokens(pointer: string): string[] {
  if (!pointer.startsWith("/")) {
    return [];
  }
  return pointer
    .slice(1)
    .split("/")
    .map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~"));
}
