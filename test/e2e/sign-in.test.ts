import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateKey } from "../../src/keys/key-format.ts";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import type { TestServer } from "../helpers/server.ts";
import { browserStorage, expectAccessible, expectNoPageOverflow, startConsoleSuite, type ConsoleSuite, NARROW, openConsole, screenshot, signIn, WIDE } from "./helpers/browser.ts";

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

describe("console: signing in", () => {
  let suite: ConsoleSuite;
  let browser: Browser;
  let server: TestServer;
  let origin: string;
  let member: { secret: string; keyId: string };

  beforeAll(async () => {
    suite = await startConsoleSuite();
    ({ browser, server, origin } = suite);
    member = await server.issueKey({ email: "mia@example.com", scopes: ["keys:self", "orders:read"] });
  });
  afterAll(async () => {
    await suite?.close();
  });

  it("serves the page with a strict CSP, nothing inline and nothing from another origin", async () => {
    const c = await openConsole(browser, origin, WIDE);
    const response = await c.page.goto("/console/keys");
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers["content-security-policy"]).toBe(CSP);
    expect(headers["x-content-type-options"]).toBe("nosniff");
    expect(headers["referrer-policy"]).toBe("no-referrer");
    expect(headers["cache-control"]).toBe("no-cache");
    await c.page.getByLabel("API key").waitFor();
    const inline = await c.page.evaluate(() => ({
      scripts: [...document.scripts].filter((s) => !s.src).length,
      styles: document.querySelectorAll("style, [style]").length,
    }));
    expect(inline).toEqual({ scripts: 0, styles: 0 });
    expect(c.urls.length).toBeGreaterThan(0);
    for (const url of c.urls) expect(new URL(url).origin).toBe(origin);
    expect(c.consoleLog).toEqual([]);
    await c.close();
  });

  it.each([
    ["a malformed key", () => "ks_not-a-key", "The API key is not in a valid format. Check that it was copied whole.", "KEY_MALFORMED"],
    ["an unknown key", () => generateKey("ks"), "The API key is not recognised.", "KEY_INVALID"],
  ])("shows the server's message for %s and stores nothing", async (_, key, message, reason) => {
    const c = await openConsole(browser, origin, NARROW);
    await c.page.getByLabel("API key").fill(key());
    await c.page.getByRole("button", { name: "Sign in" }).click();
    const alert = c.page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toBe(`${message} (${reason})`);
    expect(await browserStorage(c)).toEqual({ session: {}, local: {}, cookies: [] });
    await expect.poll(() => c.page.getByRole("button", { name: "Sign out" }).count()).toBe(0);
    await expectAccessible(c.page, "the sign-in page with an error");
    await c.close();
  });

  it("shows KEY_REVOKED in plain words for a revoked key", async () => {
    const revoked = await server.issueKey({ email: "mia@example.com", scopes: ["keys:self"] });
    await server.app.keys.revokeKey(CLI_PRINCIPAL, revoked.keyId);
    const c = await openConsole(browser, origin, NARROW);
    await c.page.getByLabel("API key").fill(revoked.secret);
    await c.page.getByRole("button", { name: "Sign in" }).click();
    await expect.poll(() => c.page.getByRole("alert").textContent()).toBe("The API key has been revoked. (KEY_REVOKED)");
    expect((await browserStorage(c)).session).toEqual({});
    await c.close();
  });

  it("signs in with a good key: who, what the key may do; the key in sessionStorage only; Sign out forgets it", async () => {
    const c = await openConsole(browser, origin, NARROW);
    await expectAccessible(c.page, "the sign-in page");
    await screenshot(c.page, "sign-in-375");
    await signIn(c.page, member.secret);
    const who = c.page.getByRole("region", { name: "Signed in" });
    await expect.poll(() => who.textContent()).toContain("Signed in as mia@example.com (member) with the key test key");
    expect(await who.textContent()).toContain("Scopes: keys:selforders:read");
    const mayDo = await c.page.getByRole("list", { name: "This key may" }).getByRole("listitem").allTextContents();
    // The key has no rate limit of its own: the server default (this suite's) bounds what it gives.
    expect(mayDo).toEqual([
      "Create, rotate, switch off and revoke your own keys.", "Give new keys up to these scopes: orders:read.", "Give new keys at most 100000 requests per 60 s.",
    ]);
    expect(c.page.url()).toBe(`${origin}/console/keys`);
    await expectNoPageOverflow(c.page);

    const stored = await browserStorage(c);
    expect(stored).toEqual({ session: { "keyscope.console.key": member.secret }, local: {}, cookies: [] });
    for (const url of c.urls) expect(url).not.toContain(member.secret);
    for (const line of c.consoleLog) expect(line).not.toContain(member.secret);

    // A reload keeps the session (same tab); Sign out ends it.
    await c.page.reload();
    await c.page.getByRole("button", { name: "Sign out" }).click();
    await c.page.getByLabel("API key").waitFor();
    expect(await browserStorage(c)).toEqual({ session: {}, local: {}, cookies: [] });
    await c.close();
  });

  it("works with the keyboard alone, with a visible focus", async () => {
    const c = await openConsole(browser, origin, WIDE);
    const page = c.page;
    const focused = () => page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      return { id: el.id, text: el.textContent?.trim() ?? "", outline: getComputedStyle(el).outlineStyle };
    });
    /** Presses Tab until the focused element matches; fails after 40 presses. */
    const tabTo = async (matches: (f: { id: string; text: string }) => boolean) => {
      for (let i = 0; i < 40; i++) {
        await page.keyboard.press("Tab");
        const f = await focused();
        if (matches(f)) return f;
      }
      throw new Error("focus never got there");
    };
    expect((await tabTo((f) => f.text === "Skip to content")).outline).toBe("solid");
    await tabTo((f) => f.id === "sign-in-key");
    await page.keyboard.type(member.secret);
    await page.keyboard.press("Enter");
    await page.getByRole("button", { name: "Sign out" }).waitFor();

    expect((await tabTo((f) => f.text === "Create a key")).outline).toBe("solid");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    await tabTo((f) => f.id === "key-name");
    await page.keyboard.type("typed by keyboard");
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").getByLabel("Secret", { exact: true }).waitFor();
    await tabTo((f) => f.id === "secret-stored");
    await page.keyboard.press("Space");
    await tabTo((f) => f.text === "Close");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    // Focus goes back to the button that opened the dialog.
    await expect.poll(async () => (await focused()).text).toBe("Create a key");
    await expect.poll(() => page.getByRole("link", { name: "typed by keyboard" }).count()).toBe(1);
    expect((await tabTo((f) => f.text === "typed by keyboard")).outline).toBe("solid");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.getByRole("heading", { level: 1 }).textContent()).toBe("typed by keyboard");
    await c.close();
  });

  it("signs out by itself when the signed-in key stops working", async () => {
    const key = await server.issueKey({ email: "mia@example.com", scopes: ["keys:self"] });
    const c = await openConsole(browser, origin, WIDE);
    await signIn(c.page, key.secret);
    // My keys has loaded (its filter, then its usage) before the key stops working: otherwise
    // its own usage request is the one refused, and the page signs out before the filter.
    await c.page.getByRole("combobox", { name: "Status" }).waitFor();
    await c.page.waitForLoadState("networkidle");
    await server.app.keys.revokeKey(CLI_PRINCIPAL, key.keyId);
    // The next request the page makes (here: a filter) is refused, and the page signs out.
    await c.page.getByRole("combobox", { name: "Status" }).selectOption("ACTIVE");
    await c.page.getByLabel("API key").waitFor();
    expect(await c.page.getByRole("status").first().textContent()).toContain("You were signed out");
    expect(await c.page.getByRole("alert").textContent()).toBe("The API key has been revoked. (KEY_REVOKED)");
    expect((await browserStorage(c)).session).toEqual({});
    await c.close();
  });

  it("tells a key without keys:self or keys:admin that it can manage nothing", async () => {
    const plain = await server.issueKey({ email: "mia@example.com", scopes: ["orders:read"] });
    const c = await openConsole(browser, origin, WIDE);
    await signIn(c.page, plain.secret);
    await expect.poll(() => c.page.getByRole("heading", { level: 1 }).textContent()).toBe("Nothing to manage");
    expect(await c.page.getByRole("navigation", { name: "Console" }).count()).toBe(0);
    await c.page.goto("/console/keys");
    await expect.poll(() => c.page.getByRole("heading", { level: 1 }).textContent()).toBe("Not allowed");
    await c.close();
  });
});
