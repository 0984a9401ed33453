// Templates, their versions, server-side validation and frame previews, as
// docs/api.md ("Assets, brand kits and templates" and "Previews") describes.
import { ApiError, api, send } from "./client";
import type { ProblemDetail } from "./client";

// A template body in format v1, as docs/templates.md describes it.
export type TemplateBody = Record<string, unknown>;

export interface Template {
  id: string;
  name: string;
  latest_version: number;
  created_at_ms: number;
  updated_at_ms: number;
  body?: TemplateBody; // absent in lists
}

export interface TemplateVersion {
  template_id: string;
  version: number;
  created_by: string; // "user:ID" or "key:ID"
  created_at_ms: number;
  body?: TemplateBody; // only when one version is requested
}

// The parts of a brand kit and a campaign that the preview pickers show.
export interface BrandKitSummary {
  id: string;
  name: string;
}

export interface CampaignSummary {
  id: string;
  name: string;
  template_id: string;
  brand_kit_id: string;
  row_count: number;
}

const base = "/api/v1/templates";

export async function listTemplates(): Promise<Template[]> {
  return (await api<{ templates: Template[] }>(base)).templates;
}

export function getTemplate(id: string, signal?: AbortSignal): Promise<Template> {
  return api<Template>(`${base}/${encodeURIComponent(id)}`, { signal });
}

export function createTemplate(name: string, body: TemplateBody): Promise<Template> {
  return api<Template>(base, { json: { name, body } });
}

// Renames the template and saves BODY as the next version when it differs from the latest.
export function updateTemplate(
  id: string,
  change: { name?: string; body?: TemplateBody },
): Promise<Template> {
  return api<Template>(`${base}/${encodeURIComponent(id)}`, { method: "PUT", json: change });
}

export async function deleteTemplate(id: string): Promise<void> {
  await api(`${base}/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export async function listVersions(id: string): Promise<TemplateVersion[]> {
  const path = `${base}/${encodeURIComponent(id)}/versions`;
  return (await api<{ versions: TemplateVersion[] }>(path)).versions;
}

export function getVersion(id: string, version: number): Promise<TemplateVersion> {
  return api<TemplateVersion>(`${base}/${encodeURIComponent(id)}/versions/${version}`);
}

// Checks BODY with the server's full rules. Returns no problems when the body is
// valid, and the details of a 422 invalid_template otherwise; other errors throw.
export async function validateTemplate(
  body: TemplateBody,
  signal?: AbortSignal,
): Promise<ProblemDetail[]> {
  try {
    await api<{ valid: boolean }>(`${base}/validate`, { json: body, signal });
    return [];
  } catch (error) {
    if (error instanceof ApiError && error.code === "invalid_template") {
      return error.details.length > 0 ? error.details : [{ pointer: "", message: error.message }];
    }
    throw error;
  }
}

export interface PreviewRequest {
  template_id: string;
  version?: number;
  brand_kit_id?: string;
  time_s: number;
  values?: Record<string, string>;
  campaign_id?: string;
  row?: number;
}

// Renders one frame as a PNG. Throws ApiError with preview_failed or
// preview_timeout when no worker renders it.
export async function renderPreview(request: PreviewRequest, signal?: AbortSignal): Promise<Blob> {
  const response = await send("/api/v1/previews", {
    json: request,
    signal,
    headers: { Accept: "image/png" },
  });
  return response.blob();
}

export async function listBrandKits(): Promise<BrandKitSummary[]> {
  return (await api<{ brand_kits: BrandKitSummary[] }>("/api/v1/brand-kits")).brand_kits;
}

export async function listCampaigns(): Promise<CampaignSummary[]> {
  return (await api<{ campaigns: CampaignSummary[] }>("/api/v1/campaigns")).campaigns;
}
