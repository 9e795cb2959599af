import type { Capabilities } from "../capabilities.ts";
import type { Caller } from "../types.ts";
import { Link } from "./link.tsx";

interface NavItem {
  to: string;
  label: string;
  /** The path prefix that marks the item as the current page. */
  match: string;
}

/** Who is signed in (from `me`), what the key may do, the pages it may open, and Sign out. */
export function Header(props: { caller: Caller; capabilities: Capabilities; path: string; onSignOut: () => void }) {
  const { caller, capabilities } = props;
  const items: NavItem[] = [];
  if (capabilities.self) items.push({ to: "/keys", label: "My keys", match: "/keys" });
  if (capabilities.admin) {
    items.push({ to: "/all-keys", label: "All keys", match: "/all-keys" });
    items.push({ to: "/users", label: "Users", match: "/users" });
    items.push({ to: "/audit", label: "Audit log", match: "/audit" });
  }
  return (
    <header class="site-header">
      <div class="header-top">
        <p class="brand">Keyscope console</p>
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </div>
      <section class="whoami" aria-label="Signed in">
        <p>
          Signed in as <strong>{caller.user.email}</strong> <span class="role">({caller.user.role === "ADMIN" ? "admin" : "member"})</span> with the key{" "}
          <strong>{caller.apiKey.name}</strong> <code>{caller.apiKey.start}…</code>
        </p>
        <p>
          Scopes: {caller.apiKey.scopes.length > 0 ? caller.apiKey.scopes.map((s) => <code key={s} class="scope">{s}</code>) : <span class="muted">none</span>}
        </p>
        <ul class="may-do" aria-label="This key may">
          {capabilities.summary.map((line) => (
            <li key={line}>{line}</li>
          ))}
        </ul>
      </section>
      {items.length > 0 ? (
        <nav aria-label="Console">
          <ul class="nav">
            {items.map((item) => {
              const current = props.path === item.match || props.path.startsWith(`${item.match}/`);
              return (
                <li key={item.to}>
                  <Link to={item.to} aria-current={current ? "page" : undefined}>
                    {item.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
      ) : null}
    </header>
  );
}
