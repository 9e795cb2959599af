// History routing under /console: the path names the page, the query string holds its filters.
// Key ids may appear in URLs; secrets never do.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";
const CHANGED = "keyscope:navigate";

export interface Location {
  /** The path below /console, e.g. "/keys/<id>"; "/" for the start page. */
  path: string;
  query: URLSearchParams;
}

function current(): Location {
  const raw = window.location.pathname.startsWith(BASE) ? window.location.pathname.slice(BASE.length) : "/";
  return { path: raw === "" ? "/" : raw, query: new URLSearchParams(window.location.search) };
}

export function useLocation(): Location {
  const [location, setLocation] = useState(current);
  useEffect(() => {
    const update = () => setLocation(current());
    window.addEventListener("popstate", update);
    window.addEventListener(CHANGED, update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener(CHANGED, update);
    };
  }, []);
  return location;
}

/** Goes to a console path ("/keys?status=ACTIVE"). */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `${BASE}${to}`;
  if (options.replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  window.dispatchEvent(new Event(CHANGED));
}

/** A path with these query parameters; empty values are left out. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value) query.set(name, value);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** A link's click handler: ordinary clicks stay in the page, modified ones open as the browser likes. */
export function followLink(event: MouseEvent, to: string): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(to);
}
