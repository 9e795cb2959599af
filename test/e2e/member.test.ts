import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestServer } from "../helpers/server.ts";
import {
  browserStorage, expectAccessible, expectNoPageOverflow, graphqlWith, startConsoleSuite, headingOf, type ConsoleSuite, NARROW, openConsole, screenshot, signIn,
  type ConsolePage,
} from "./helpers/browser.ts";

const XSS_NAME = "<img src=x onerror=alert(1)>";

/**
 * A member at 375 px: creates, rotates, switches off and on and revokes a key through the console,
 * and every secret the console issued stays out of storage, URLs and the console log.
 */
describe("console: a member manages their own keys", () => {
  let suite: ConsoleSuite;
  let browser: Browser;
  let server: TestServer;
  let origin: string;
  let member: { secret: string; keyId: string; userId: string };
  let other: { keyId: string };
  let c: ConsolePage;
  let page: Page;
  /** Every secret the console showed, checked at the end. */
  const issued: string[] = [];

  beforeAll(async () => {
    suite = await startConsoleSuite();
    ({ browser, server, origin } = suite);
    member = await server.issueKey({ email: "mia@example.com", scopes: ["keys:self", "orders:read"] });
    other = await server.issueKey({ email: "otto@example.com", scopes: ["keys:self"] });
    c = await openConsole(browser, origin, NARROW);
    page = c.page;
    await signIn(page, member.secret);
  });
  afterAll(async () => {
    await c?.close();
    await suite?.close();
  });

  const heading = () => headingOf(page);
  const dialog = () => page.getByRole("dialog");

  /** Reads the secret shown once, checks the copy button, confirms and closes. */
  async function takeSecret(): Promise<string> {
    const secret = await dialog().getByLabel("Secret", { exact: true }).inputValue();
    expect(secret).toMatch(/^ks_[0-9A-Za-z]{38}$/);
    issued.push(secret);
    await dialog().getByRole("button", { name: "Copy secret" }).click();
    await expect.poll(() => dialog().getByRole("status").last().textContent()).toBe("Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    // Escape does not close it, and Close waits for "I have stored it".
    await page.keyboard.press("Escape");
    expect(await dialog().count()).toBe(1);
    const close = dialog().getByRole("button", { name: "Close" });
    expect(await close.isDisabled()).toBe(true);
    await dialog().getByLabel("I have stored the secret somewhere safe").check();
    await close.click();
    await expect.poll(() => dialog().count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    // Clear the clipboard: only the test put the secret there.
    await page.evaluate(() => navigator.clipboard.writeText(""));
    return secret;
  }

  async function openKey(name: string): Promise<void> {
    await page.goto("/console/keys");
    await page.getByRole("link", { name, exact: true }).click();
    await expect.poll(heading).toBe(name);
  }

  it("shows My keys with the signed-in key, its badges and its usage", async () => {
    await expect.poll(heading).toBe("My keys");
    const row = page.getByRole("row").filter({ hasText: "test key" });
    await expect.poll(() => row.count()).toBe(1);
    const cells = await row.getByRole("cell").allTextContents();
    expect(cells.slice(0, 5)).toEqual(["test key", `${member.secret.slice(0, cells[1]!.length - 1)}…`, "mobile", "keys:self, orders:read", expect.stringContaining("Active")]);
    await expect.poll(() => row.getByRole("img").getAttribute("aria-label")).toMatch(/^Last 24 hours: \d+ requests?, 0 rejected$/);
    await expectAccessible(page, "My keys");
    await expectNoPageOverflow(page);
  });

  it("refuses a blank name next to the Name field, and creates a key whose secret is shown once and works", async () => {
    await page.getByRole("button", { name: "Create a key" }).click();
    await expectAccessible(page, "the Create a key dialog");
    // Scopes offered are exactly the calling key's.
    expect(await dialog().getByRole("group", { name: "Scopes" }).getByRole("checkbox").evaluateAll((boxes) => boxes.map((b) => b.id))).toEqual([
      "scope-keys:self", "scope-orders:read",
    ]);
    await dialog().getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => dialog().locator("#key-name-error").textContent()).toBe("The name must not be blank.");
    expect(await dialog().getByLabel("Name").getAttribute("aria-invalid")).toBe("true");

    await dialog().getByLabel("Name").fill("checkout service");
    await dialog().getByLabel("orders:read").check();
    await dialog().getByLabel("In 30 days").check();
    await dialog().getByLabel("Never").check();
    await expect.poll(() => dialog().getByRole("note").textContent()).toContain("Warning: a key that never expires");
    await dialog().getByLabel("In 30 days").check();
    // Of the form, never of a secret: a screenshot in docs/ must not show a working key.
    await screenshot(page, "create-key-375");
    await dialog().getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => dialog().getByRole("heading").textContent()).toBe("Key “checkout service” created");
    await expectAccessible(page, "the secret dialog");
    const secret = await takeSecret();

    const row = page.getByRole("row").filter({ hasText: "checkout service" });
    await expect.poll(() => row.getByRole("listitem").allTextContents()).toEqual(["Active", "Never used"]);
    const me = await graphqlWith(origin, secret, "{ me { apiKey { name scopes expiresAt } user { email } } }");
    expect(me.status).toBe(200);
    expect(me.body.data.me.apiKey).toMatchObject({ name: "checkout service", scopes: ["orders:read"] });
    expect(me.body.data.me.user.email).toBe("mia@example.com");
    const days = (Date.parse(me.body.data.me.apiKey.expiresAt) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
  });

  it("rotates the key with a grace period: the new secret once, and the old one still works", async () => {
    await openKey("checkout service");
    const oldSecret = issued.at(-1)!;
    await page.getByRole("button", { name: "Rotate" }).click();
    await dialog().getByLabel(/^1 hour/).check();
    await expectAccessible(page, "the Rotate dialog");
    await dialog().getByRole("button", { name: "Rotate key" }).click();
    await expect.poll(() => dialog().getByRole("heading").textContent()).toBe("“checkout service” rotated");
    expect(await dialog().getByRole("status").first().textContent()).toContain("the old secret works one more hour");
    const newSecret = await takeSecret();
    expect(newSecret).not.toBe(oldSecret);
    for (const secret of [oldSecret, newSecret]) {
      const res = await graphqlWith(origin, secret, "{ me { apiKey { name } } }");
      expect(res.body).toEqual({ data: { me: { apiKey: { name: "checkout service" } } } });
    }
  });

  it("switches the key off (it fails) and on again (it works)", async () => {
    const secret = issued.at(-1)!;
    await page.getByRole("button", { name: "Switch off" }).click();
    await expect.poll(() => page.getByRole("list", { name: "Status" }).first().getByRole("listitem").first().textContent()).toBe("Disabled");
    const off = await graphqlWith(origin, secret, "{ me { apiKey { name } } }");
    expect(off.status).toBe(401);
    expect(off.body.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_DISABLED" });

    await page.getByRole("button", { name: "Switch on" }).click();
    await expect.poll(() => page.getByRole("list", { name: "Status" }).first().getByRole("listitem").first().textContent()).toBe("Active");
    expect((await graphqlWith(origin, secret, "{ me { apiKey { name } } }")).status).toBe(200);
  });

  it("edits the key's settings", async () => {
    await page.getByRole("button", { name: "Edit" }).click();
    await dialog().getByLabel("Description (optional)").fill("Pays for orders");
    await dialog().getByLabel("Give this key its own rate limit").check();
    await dialog().getByLabel("Requests").fill("50");
    await dialog().getByLabel("per seconds").fill("60");
    await expectAccessible(page, "the Edit dialog");
    await dialog().getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => dialog().count()).toBe(0);
    const settings = page.getByRole("region", { name: "Settings" });
    await expect.poll(() => settings.textContent()).toContain("DescriptionPays for orders");
    expect(await settings.textContent()).toContain("Rate limit50 per 60 s");
  });

  it("revokes the key once its name is typed: final, and it fails", async () => {
    const secret = issued.at(-1)!;
    await page.getByRole("button", { name: "Revoke" }).click();
    const confirm = dialog().getByRole("button", { name: "Revoke key" });
    expect(await confirm.isDisabled()).toBe(true);
    await dialog().getByLabel(/Type the key's name to confirm/).fill("checkout");
    expect(await confirm.isDisabled()).toBe(true);
    await dialog().getByLabel(/Type the key's name to confirm/).fill("checkout service");
    await expectAccessible(page, "the Revoke dialog");
    await confirm.click();
    await expect.poll(() => page.getByRole("list", { name: "Status" }).first().getByRole("listitem").allTextContents()).toEqual(["Revoked"]);
    expect(await page.getByRole("group", { name: "Key actions" }).count()).toBe(0);
    const res = await graphqlWith(origin, secret, "{ me { apiKey { name } } }");
    expect(res.status).toBe(401);
    expect(res.body.errors[0].extensions.reason).toBe("KEY_REVOKED");
  });

  it("shows the key's audit events, its usage charts, and is readable at 375 px", async () => {
    const events = page.getByRole("region", { name: "Audit events of checkout service" });
    await expect.poll(() => events.getByRole("row").count()).toBe(7); // a header and six events
    const actions = await events.locator("tbody tr td:nth-child(2)").allTextContents();
    expect(actions).toEqual(["key.revoked", "key.updated", "key.updated", "key.updated", "key.rotated", "key.created"]);
    expect(await events.textContent()).toContain("mia@example.com (you) with key test key");
    expect(await events.textContent()).toContain("activetrue → false");
    expect(await page.getByRole("img", { name: /^Last 24 hours: / }).count()).toBe(1);
    expect(await page.getByRole("img", { name: /^Last 7 days: / }).count()).toBe(1);
    await expectAccessible(page, "the key detail page");
    await expectNoPageOverflow(page);
    await screenshot(page, "key-detail-375");
  });

  it("filters by status in the URL", async () => {
    await page.goto("/console/keys");
    await page.getByRole("combobox", { name: "Status" }).selectOption("REVOKED");
    await expect.poll(() => page.url()).toBe(`${origin}/console/keys?status=REVOKED`);
    // The filtered list has replaced the whole one once the active key is gone from it.
    await expect.poll(() => page.getByRole("link", { name: "test key" }).count()).toBe(0);
    expect(await page.getByRole("link", { name: "checkout service" }).count()).toBe(1);
    await page.reload();
    await expect.poll(() => page.getByRole("link", { name: "checkout service" }).count()).toBe(1);
    expect(await page.getByRole("combobox", { name: "Status" }).inputValue()).toBe("REVOKED");
    await page.getByRole("combobox", { name: "Status" }).selectOption("");
    await expect.poll(() => page.getByRole("link", { name: "test key" }).count()).toBe(1);
  });

  it("shows a key named like HTML as text, and runs nothing", async () => {
    await page.goto("/console/keys");
    await page.getByRole("button", { name: "Create a key" }).click();
    await dialog().getByLabel("Name").fill(XSS_NAME);
    await dialog().getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => dialog().getByRole("heading").textContent()).toBe(`Key “${XSS_NAME}” created`);
    await takeSecret();
    await expect.poll(() => page.getByRole("link", { name: XSS_NAME, exact: true }).count()).toBe(1);
    await page.getByRole("link", { name: XSS_NAME, exact: true }).click();
    await expect.poll(heading).toBe(XSS_NAME);
    expect(await page.locator("img").count()).toBe(0);
    expect(c.dialogs).toEqual([]);
    expect(c.urls.some((u) => u.endsWith("/x"))).toBe(false);
  });

  it("sees no admin pages", async () => {
    await page.goto("/console/keys");
    const nav = await page.getByRole("navigation", { name: "Console" }).getByRole("link").allTextContents();
    expect(nav).toEqual(["My keys"]);
    for (const path of ["/console/users", "/console/all-keys", "/console/audit"]) {
      await page.goto(path);
      await expect.poll(heading).toBe("Admins only");
      await expectAccessible(page, path);
    }
  });

  it("gets “no such key” for another user's key id typed into the URL, as for an unknown id", async () => {
    for (const id of [other.keyId, "7d0e9b54-3f7a-4c59-9d6b-0f1e2d3c4b5a"]) {
      await page.goto(`/console/keys/${id}`);
      await expect.poll(heading).toBe("No such key");
      expect(await page.getByRole("alert").textContent()).toBe("No API key has this id. (NOT_FOUND)");
    }
    await expectAccessible(page, "the no-such-key page");
  });

  it("kept every issued secret out of storage, URLs and the console log; the signed-in key only in sessionStorage", async () => {
    expect(issued.length).toBeGreaterThanOrEqual(3);
    const stored = await browserStorage(c);
    expect(stored).toEqual({ session: { "keyscope.console.key": member.secret }, local: {}, cookies: [] });
    for (const secret of [...issued, member.secret]) {
      for (const url of c.urls) expect(url).not.toContain(secret);
      for (const line of c.consoleLog) expect(line).not.toContain(secret);
      expect(await page.content()).not.toContain(secret);
    }
    expect(c.consoleLog.filter((line) => !line.includes("Failed to load resource"))).toEqual([]);
  });
});
