import type { ComponentChildren } from "preact";
import { BASE, followLink } from "../router.ts";

/** A link to a console path, followed without reloading the page. */
export function Link(props: { to: string; children: ComponentChildren; class?: string; "aria-current"?: "page" | undefined }) {
  return (
    <a href={`${BASE}${props.to}`} class={props.class} aria-current={props["aria-current"]} onClick={(e) => followLink(e, props.to)}>
      {props.children}
    </a>
  );
}
