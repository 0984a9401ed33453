// Campaigns, their rows and batches, credits, queue status and job events, as
// docs/api.md and docs/openapi.yaml describe them, with one function per call.
import { api, idempotencyKey } from "./client";

export interface Campaign {
  id: string;
  name: string;
  template_id: string;
  template_version: number; // 0: the template's latest version when generating
  brand_kit_id: string;
  columns: string[];
  row_count: number;
  mapping: Record<string, string>; // template field to column
  created_at_ms?: number;
  updated_at_ms?: number;
}

export interface CampaignChange {
  name?: string;
  template_id?: string;
  template_version?: number;
  brand_kit_id?: string;
}

export interface RowsUpload {
  campaign: Campaign;
  preview: string[][];
}

export interface RowsPage {
  columns: string[];
  total: number;
  rows: { number: number; values: string[] }[];
}

export type JobState = "queued" | "active" | "retrying" | "completed" | "failed" | "cancelled";

export const jobStates: JobState[] = [
  "queued",
  "active",
  "retrying",
  "completed",
  "failed",
  "cancelled",
];

// States after which a job changes only when someone retries its batch.
export function isFinal(state: JobState): boolean {
  return state === "completed" || state === "failed" || state === "cancelled";
}

export interface BatchJob {
  id: string;
  row: number;
  state: JobState;
  attempts: number;
  error: string;
  updated_at_ms?: number;
  video_url?: string;
  poster_url?: string;
}

export type BatchCounts = Record<JobState | "total", number>;

export interface Batch {
  id: string;
  campaign_id: string;
  priority: "normal" | "high";
  video_price: number;
  job_count: number;
  created_at_ms?: number;
  cancelled: boolean;
  counts: BatchCounts;
  jobs?: BatchJob[]; // only from GET /api/v1/batches/{id}
}

export interface Generated {
  batch_id: string;
  created: boolean;
  jobs: number;
  credits_held: number;
  video_price: number;
}

export interface Credits {
  available: number;
  held: number;
  video_price: number;
}

export interface DayUsage {
  date: string;
  videos: number;
  failures: number;
  credits: number;
  render_seconds: number;
  cache_hit_rate: number;
}

export interface QueueStatus {
  workers: { alive: number; busy: number };
  queue: { waiting: number; running: number };
  tenant: { queued: number; active: number };
}

export type Severity = "error" | "warning" | "info";

export interface PreflightProblem {
  severity: Severity;
  row: number | null;
  place: string;
  message: string;
}

export interface Preflight {
  rows: number;
  rows_with_errors: number;
  template_valid: boolean;
  problems: PreflightProblem[];
}

export interface TemplateSummary {
  id: string;
  name: string;
  latest_version: number;
}

export interface TemplateField {
  type?: "text" | "image" | "color" | "number" | "date" | "time";
  required?: boolean;
  default?: string | number;
  description?: string;
}

export interface TemplateBody {
  name?: string;
  fields?: Record<string, TemplateField>;
  [key: string]: unknown;
}

export interface TemplateVersion {
  template_id: string;
  version: number;
  created_by: string;
  created_at_ms: number;
  body?: TemplateBody;
}

export interface BrandKitSummary {
  id: string;
  name: string;
}

// One `event: state` or `event: progress` of GET /api/v1/events.
export interface JobEvent {
  type: "state" | "progress";
  batch_id: string;
  job_id: string;
  row: number;
  at_ms: number;
  from?: JobState;
  to?: JobState;
  attempt?: number;
  error?: string;
  frames_done?: number;
  frames_total?: number;
}

const base = "/api/v1";

function campaignPath(id: string): string {
  return `${base}/campaigns/${encodeURIComponent(id)}`;
}

export function batchPath(id: string): string {
  return `${base}/batches/${encodeURIComponent(id)}`;
}

export const paths = {
  campaigns: `${base}/campaigns`,
  campaign: campaignPath,
  templates: `${base}/templates`,
  brandKits: `${base}/brand-kits`,
  credits: `${base}/credits`,
  status: `${base}/status`,
  usage: (days: number) => `${base}/usage?days=${days}`,
  templateVersions: (id: string) => `${base}/templates/${encodeURIComponent(id)}/versions`,
  templateVersion: (id: string, version: number) =>
    `${base}/templates/${encodeURIComponent(id)}/versions/${version}`,
  rows: (id: string, offset: number, limit: number) =>
    `${campaignPath(id)}/rows?offset=${offset}&limit=${limit}`,
  batches: (options: { campaignId?: string; limit?: number }) => {
    const query = new URLSearchParams();
    if (options.campaignId) {
      query.set("campaign_id", options.campaignId);
    }
    if (options.limit) {
      query.set("limit", String(options.limit));
    }
    return `${base}/batches?${query.toString()}`;
  },
  batch: batchPath,
  zip: (id: string) => `${batchPath(id)}/zip`,
  events: (batchId: string) => `${base}/events?batch_id=${encodeURIComponent(batchId)}`,
};

export function createCampaign(change: CampaignChange): Promise<Campaign> {
  return api<Campaign>(paths.campaigns, { json: change });
}

export function updateCampaign(id: string, change: CampaignChange): Promise<Campaign> {
  return api<Campaign>(campaignPath(id), { method: "PATCH", json: change });
}

export function deleteCampaign(id: string): Promise<void> {
  return api<void>(campaignPath(id), { method: "DELETE" });
}

// Replaces the campaign's rows with a CSV file; a 422 names the bad row.
export function uploadRows(id: string, csv: Blob): Promise<RowsUpload> {
  return api<RowsUpload>(`${campaignPath(id)}/rows`, {
    method: "PUT",
    body: csv,
    contentType: "text/csv",
  });
}

export function saveMapping(id: string, mapping: Record<string, string>): Promise<Campaign> {
  return api<Campaign>(`${campaignPath(id)}/mapping`, { method: "PUT", json: { mapping } });
}

export function preflight(id: string): Promise<Preflight> {
  return api<Preflight>(`${campaignPath(id)}/preflight`, { json: {} });
}

// Generate all. KEY makes a repeated click or a resent request return the
// same batch instead of queueing the rows twice.
export function generate(id: string, key: string = idempotencyKey()): Promise<Generated> {
  return api<Generated>(`${campaignPath(id)}/generate`, {
    json: {},
    headers: { "Idempotency-Key": key },
  });
}

export function retryBatch(id: string): Promise<{ retried: number; credits_held: number }> {
  return api(`${batchPath(id)}/retry`, {
    method: "POST",
    headers: { "Idempotency-Key": idempotencyKey() },
  });
}

export function cancelBatch(id: string): Promise<{ cancelled: number; stopping: number }> {
  return api(`${batchPath(id)}/cancel`, { method: "POST" });
}

export function getBatch(id: string, signal?: AbortSignal): Promise<Batch> {
  return api<Batch>(batchPath(id), { signal });
}
