import type { Page } from "../types.ts";

/** Forward paging over a Relay connection; the cursor lives in the URL, so Back goes back. */
export function Pager(props: { totalCount: number; shown: number; hasNextPage: boolean; onNext: () => void; onFirst?: (() => void) | undefined; noun: string }) {
  return (
    <nav class="pager" aria-label={`Pages of ${props.noun}`}>
      <span>
        {props.shown} shown of {props.totalCount} {props.noun}
      </span>
      {props.onFirst ? (
        <button type="button" onClick={props.onFirst}>
          First page
        </button>
      ) : null}
      {props.hasNextPage ? (
        <button type="button" onClick={props.onNext}>
          Next page
        </button>
      ) : null}
    </nav>
  );
}

/** The pager of a server-paged table: `go(after)` puts the cursor in the URL. */
export function ConnectionPager(props: { noun: string; page: Page<unknown>; after: string | undefined; go: (after?: string) => void }) {
  const { page } = props;
  return (
    <Pager
      noun={props.noun}
      totalCount={page.totalCount}
      shown={page.nodes.length}
      hasNextPage={page.hasNextPage}
      onNext={() => props.go(page.endCursor ?? undefined)}
      onFirst={props.after ? () => props.go() : undefined}
    />
  );
}
