import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import type { TestServer } from "../helpers/server.ts";
import { expectAccessible, graphqlWith, headingOf, openConsole, signIn, startConsoleSuite, WIDE, type ConsolePage, type ConsoleSuite } from "./helpers/browser.ts";

const DAY = 86_400_000;

/**
 * A member whose key an admin issued with an expiry in 20 days and 500 requests a minute: the
 * console offers only what the server will accept (Caller.grantable), and a key an admin switched
 * off cannot be switched on by its owner.
 */
describe("console: a member's key bounds what the console offers", () => {
  let suite: ConsoleSuite;
  let browser: Browser;
  let server: TestServer;
  let origin: string;
  let member: { secret: string; keyId: string; userId: string };
  let c: ConsolePage;
  let page: Page;
  const dialog = () => page.getByRole("dialog");

  beforeAll(async () => {
    suite = await startConsoleSuite();
    ({ browser, server, origin } = suite);
    member = await server.issueKey({ email: "bea@example.com", scopes: ["keys:self", "orders:read"], expiresAt: new Date(Date.now() + 20 * DAY) });
    await server.app.keys.updateKey(CLI_PRINCIPAL, member.keyId, { rateLimit: { limit: 500, windowSeconds: 60 } });
    c = await openConsole(browser, origin, WIDE);
    page = c.page;
    await signIn(page, member.secret);
  });
  afterAll(async () => {
    await c?.close();
    await suite?.close();
  });

  it("says in the header what the key may give", async () => {
    await expect.poll(() => headingOf(page)).toBe("My keys");
    const header = await page.getByRole("banner").textContent();
    expect(header).toContain("Give new keys at most 500 requests per 60 s.");
    expect(header).toContain("Give new keys an expiry no later than this key's own.");
  });

  it("offers only expiries before the key's own and a rate limit within its own, and the key it makes works", async () => {
    await page.getByRole("button", { name: "Create a key" }).click();
    // 90 days and never would outlive the calling key: not offered; the longest that fits is chosen.
    expect(await dialog().getByLabel("In 90 days").isDisabled()).toBe(true);
    expect(await dialog().getByLabel("Never").isDisabled()).toBe(true);
    expect(await dialog().getByLabel("In 30 days").isDisabled()).toBe(true);
    expect(await dialog().getByLabel("In 7 days").isChecked()).toBe(true);
    // The server default (more than 500 a minute) cannot be given: its own limit, the most it may.
    const own = dialog().getByLabel("Give this key its own rate limit");
    expect(await own.isChecked()).toBe(true);
    expect(await own.isDisabled()).toBe(true);
    expect(await dialog().getByLabel("Requests").inputValue()).toBe("500");
    expect(await dialog().getByLabel("per seconds").inputValue()).toBe("60");
    expect(await dialog().getByRole("group", { name: "Rate limit" }).textContent()).toContain(
      "At most 500 requests per 60 s or longer (your own key's limit); the server default is more, so this key needs its own.",
    );
    await expectAccessible(page, "the Create a key dialog within bounds");

    await dialog().getByLabel("Name").fill("bounded");
    await dialog().getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => dialog().getByRole("heading").textContent()).toBe("Key “bounded” created");
    const secret = await dialog().getByLabel("Secret", { exact: true }).inputValue();
    await dialog().getByLabel("I have stored the secret somewhere safe").check();
    await dialog().getByRole("button", { name: "Close" }).click();
    const me = await graphqlWith(origin, secret, "{ me { apiKey { rateLimit { limit windowSeconds } expiresAt } } }");
    expect(me.body.data.me.apiKey.rateLimit).toEqual({ limit: 500, windowSeconds: 60 });
    const days = (Date.parse(me.body.data.me.apiKey.expiresAt) - Date.now()) / DAY;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThan(7.1);
  });

  it("a key an admin switched off: the owner sees who did, and cannot switch it on", async () => {
    const { apiKey } = await server.app.keys.createKey(CLI_PRINCIPAL, {
      userId: member.userId, name: "held by an admin", clientType: "mobile", scopes: [], expiresAt: new Date(Date.now() + 10 * DAY),
      rateLimit: { limit: 500, windowSeconds: 60 },
    });
    await server.app.keys.updateKey(CLI_PRINCIPAL, apiKey.id, { active: false });
    await page.goto(`/console/keys/${apiKey.id}`);
    await expect.poll(() => headingOf(page)).toBe("held by an admin");
    const switchOn = page.getByRole("button", { name: "Switch on" });
    expect(await switchOn.isDisabled()).toBe(true);
    expect(await page.locator("#locked-off").textContent()).toBe("An admin switched this key off: only an admin can switch it on again.");
    expect(await page.getByRole("region", { name: "Settings" }).textContent()).toContain("Switchedoff, by an admin");
    await expectAccessible(page, "a key an admin switched off");
  });
});
