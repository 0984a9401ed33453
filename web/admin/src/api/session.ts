// Who is signed in, as GET /api/v1/me and POST /api/v1/session return it.

export type Role = "owner" | "editor" | "viewer" | "none";

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  platform_admin: boolean;
  disabled: boolean;
  created_at_ms: number;
}

export interface Me {
  actor: string;
  role: Role;
  platform_admin: boolean;
  user: User | null;
  tenant: { id: string; name: string } | null;
  csrf_token?: string;
  expires_at_ms?: number;
}

const roleRank: Record<Role, number> = { none: 0, viewer: 1, editor: 2, owner: 3 };

// True when ME has at least the role NEEDED in its tenant.
export function canAct(me: Me | null, needed: Role): boolean {
  return me !== null && roleRank[me.role] >= roleRank[needed];
}
