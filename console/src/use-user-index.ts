// Users by id, for filters and for naming people in the audit log (admins only).
import { users } from "./api.ts";
import { useResult } from "./use-result.ts";
import type { User } from "./types.ts";

/** The server's largest page; beyond it, filters fall back to ids. */
const INDEX_SIZE = 100;

export function useUserIndex(): { list: User[]; email: (id: string) => string | undefined } {
  const loaded = useResult(() => users(INDEX_SIZE), []);
  const list = loaded.state === "ok" ? loaded.data.nodes : [];
  const byId = new Map(list.map((u) => [u.id, u.email]));
  return { list, email: (id) => byId.get(id) };
}
