/**
 * Asks `check` every `everyMs` until it answers something other than undefined or false, and
 * returns that answer; rejects after `ms`, naming `what`. For a state no event announces (a row
 * written by a timer, a window reset on a clock the test does not hold). The bound is there so
 * that a state never reached fails with a message instead of the test's timeout: it is no speed.
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const answer = await check();
    if (answer !== undefined && answer !== false) return answer;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
