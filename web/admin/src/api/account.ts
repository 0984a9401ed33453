// Types and calls of the account routes: credits and usage, API keys,
// webhooks, a tenant's users, and the platform administrators' tenant routes.
import { api, idempotencyKey } from "./client";
import type { Role, User } from "./session";

export type TenantRole = Exclude<Role, "none">;

export const tenantRoles: TenantRole[] = ["owner", "editor", "viewer"];

export const roleDescriptions: Record<TenantRole, string> = {
  owner: "Owner: also manages users, API keys and webhooks",
  editor: "Editor: also changes content and generates videos",
  viewer: "Viewer: reads the tenant's data",
};

// Credits and usage

export interface Credits {
  available: number;
  held: number;
  video_price: number;
}

export type LedgerKind = "topup" | "reserve" | "charge" | "release" | "adjustment";

export interface LedgerEntry {
  id: number;
  kind: LedgerKind;
  amount: number;
  available_after: number;
  held_after: number;
  // The batch whose hold a reserve, charge or release moved; empty for top-ups.
  job_id: string;
  actor: string;
  created_at_ms: number;
}

// The maximum `limit` of GET /api/v1/credits/history.
export const maxHistoryLimit = 1000;

export interface DayUsage {
  date: string; // YYYY-MM-DD, UTC
  videos: number;
  failures: number;
  credits: number;
  render_seconds: number;
  cache_hit_rate: number; // 0 to 1
}

export function usagePath(days: number): string {
  return `/api/v1/usage?days=${days}`;
}

export function historyPath(limit: number): string {
  return `/api/v1/credits/history?limit=${Math.min(limit, maxHistoryLimit)}`;
}

// API keys

export interface ApiKey {
  id: string;
  name: string;
  role: TenantRole;
  created_by: string; // "user:ID" or "key:ID"
  created_at_ms: number;
  last_used_at_ms: number; // 0 when never used
  revoked: boolean;
  revoked_at_ms: number;
}

export interface NewApiKey extends ApiKey {
  secret: string;
}

export function createApiKey(name: string, role: TenantRole): Promise<NewApiKey> {
  return api<NewApiKey>("/api/v1/api-keys", { json: { name, role } });
}

export function revokeApiKey(id: string): Promise<ApiKey> {
  return api<ApiKey>(`/api/v1/api-keys/${encodeURIComponent(id)}`, { method: "DELETE" });
}

// Webhooks

export const webhookEvents = ["video.completed", "video.failed", "batch.completed"] as const;
export type WebhookEvent = (typeof webhookEvents)[number];

export interface Webhook {
  id: string;
  url: string;
  events: string[]; // event types, or ["*"] for all
  created_at_ms: number;
}

export interface NewWebhook extends Webhook {
  secret: string;
}

export type DeliveryState = "pending" | "delivered" | "failed";

export interface WebhookDelivery {
  id: string;
  event_id: string;
  event_type: WebhookEvent | "ping";
  state: DeliveryState;
  attempts: number;
  last_status: number; // 0 when no reply came back
  last_error: string;
  next_try_at_ms?: number;
  created_at_ms?: number;
  delivered_at_ms?: number;
}

// Registers URL for EVENTS; an empty list means every event ("*").
export function createWebhook(url: string, events: WebhookEvent[]): Promise<NewWebhook> {
  return api<NewWebhook>("/api/v1/webhooks", {
    json: { url, events: events.length === 0 ? ["*"] : events },
  });
}

export function deleteWebhook(id: string): Promise<void> {
  return api<void>(`/api/v1/webhooks/${encodeURIComponent(id)}`, { method: "DELETE" });
}

export function deliveriesPath(id: string, limit = 50): string {
  return `/api/v1/webhooks/${encodeURIComponent(id)}/deliveries?limit=${limit}`;
}

export function testWebhook(id: string): Promise<WebhookDelivery> {
  return api<WebhookDelivery>(`/api/v1/webhooks/${encodeURIComponent(id)}/test`, {
    method: "POST",
  });
}

// Users

export interface NewUser {
  email: string;
  name: string;
  role: TenantRole;
  password: string;
}

// The minimum password length that the server accepts.
export const minPasswordLength = 12;

export function createUser(user: NewUser): Promise<User> {
  return api<User>("/api/v1/users", { json: user });
}

export function updateUser(
  id: string,
  change: { role?: TenantRole; disabled?: boolean },
): Promise<User> {
  return api<User>(`/api/v1/users/${encodeURIComponent(id)}`, { method: "PATCH", json: change });
}

// Tenants, for platform administrators

export interface Tenant {
  id: string;
  name: string;
  created_at_ms: number;
  disabled: boolean;
}

export interface TopUp {
  tenant: string;
  added: number;
  available: number;
  replayed: boolean;
}

// The id rule of POST /api/v1/admin/tenants.
export const tenantIdPattern = /^[A-Za-z0-9_-]{1,64}$/;

// The maximum amount of one top-up.
export const maxTopUp = 100_000_000;

export function tenantPath(id: string): string {
  return `/api/v1/admin/tenants/${encodeURIComponent(id)}`;
}

// NOTE: smmhub-api has no route yet that lists another tenant's users or
// reads its balance. The tenant page requests these paths and explains the
// 404 or 405 that it gets.
export function tenantUsersPath(id: string): string {
  return `${tenantPath(id)}/users`;
}

export function tenantCreditsPath(id: string): string {
  return `${tenantPath(id)}/credits`;
}

export function createTenant(id: string, name: string): Promise<Tenant> {
  return api<Tenant>("/api/v1/admin/tenants", { json: { id, name } });
}

export function createTenantUser(tenant: string, user: NewUser): Promise<User> {
  return api<User>(tenantUsersPath(tenant), { json: user });
}

// Adds AMOUNT credits to TENANT. KEY is the Idempotency-Key of one user
// action: sending the same key again adds nothing and returns replayed.
export function topUpTenant(
  tenant: string,
  amount: number,
  key = idempotencyKey(),
): Promise<TopUp> {
  return api<TopUp>(`${tenantPath(tenant)}/topups`, {
    json: { amount },
    headers: { "Idempotency-Key": key },
  });
}
