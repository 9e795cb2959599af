import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI_PRINCIPAL } from "../../src/auth/principal.ts";
import type { TestServer } from "../helpers/server.ts";
import { browserStorage, expectAccessible, expectNoPageOverflow, graphqlWith, startConsoleSuite, headingOf, type ConsoleSuite, NARROW, openConsole, screenshot, signIn, WIDE, type ConsolePage } from "./helpers/browser.ts";

/** An admin at 1440 px: users, every key, issuing keys to others, the audit log. */
describe("console: an admin", () => {
  let suite: ConsoleSuite;
  let browser: Browser;
  let server: TestServer;
  let origin: string;
  let admin: { secret: string; keyId: string; userId: string };
  let c: ConsolePage;
  let page: Page;
  let issuedToNina = "";
  let ninaId = "";

  beforeAll(async () => {
    suite = await startConsoleSuite();
    ({ browser, server, origin } = suite);
    admin = await server.issueKey({ email: "ada@example.com", role: "ADMIN", clientType: "backoffice", scopes: ["keys:admin", "keys:self"] });
    // Enough users for two pages of 20.
    for (let i = 1; i <= 21; i++) await server.app.users.createUser(CLI_PRINCIPAL, { email: `user${String(i).padStart(2, "0")}@example.com`, clientTypes: ["mobile"] });
    c = await openConsole(browser, origin, WIDE);
    page = c.page;
    await signIn(page, admin.secret);
  });
  afterAll(async () => {
    await c?.close();
    await suite?.close();
  });

  const heading = () => headingOf(page);
  const dialog = () => page.getByRole("dialog");
  const userRow = (email: string) => page.getByRole("row").filter({ has: page.getByRole("cell", { name: email, exact: true }) });

  it("sees the admin pages and what the key may do", async () => {
    const nav = await page.getByRole("navigation", { name: "Console" }).getByRole("link").allTextContents();
    expect(nav).toEqual(["My keys", "All keys", "Users", "Audit log"]);
    expect(await page.getByRole("list", { name: "This key may" }).getByRole("listitem").allTextContents()).toEqual([
      "Manage every user, every key and read the whole audit log.",
      "Create, rotate, switch off and revoke your own keys.",
    ]);
    await expectAccessible(page, "My keys (admin)");
    await screenshot(page, "my-keys-1440");
  });

  it("pages through the users, 20 at a time", async () => {
    await page.getByRole("link", { name: "Users" }).click();
    await expect.poll(heading).toBe("Users");
    const pager = page.getByRole("navigation", { name: "Pages of users" });
    await expect.poll(() => pager.textContent()).toContain("20 shown of 22 users");
    await pager.getByRole("button", { name: "Next page" }).click();
    await expect.poll(() => pager.textContent()).toContain("2 shown of 22 users");
    expect(page.url()).toMatch(/\/console\/users\?after=/);
    expect(await pager.getByRole("button", { name: "Next page" }).count()).toBe(0);
    await page.goBack();
    await expect.poll(() => pager.textContent()).toContain("20 shown of 22 users");
    await expectAccessible(page, "Users");
  });

  it("creates a user (a bad email refused beside its field), then edits their role and client types", async () => {
    await page.getByRole("button", { name: "Create a user" }).click();
    await dialog().getByLabel("Email").fill("not-an-email");
    await dialog().getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => dialog().locator("#user-email-error").count()).toBe(1);
    await dialog().getByLabel("Email").fill("nina@example.com");
    await dialog().getByLabel("Name (optional)").fill("Nina");
    await dialog().getByLabel("Client types").fill("partner");
    await expectAccessible(page, "the Create a user dialog");
    await dialog().getByRole("button", { name: "Create user" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "created" }).textContent()).toBe("nina@example.com created.");

    await openUsersPageWith("nina@example.com");
    const cell = (n: number) => userRow("nina@example.com").getByRole("cell").nth(n).textContent();
    await userRow("nina@example.com").getByRole("button", { name: "Edit nina@example.com" }).click();
    await dialog().getByLabel("Role").selectOption("ADMIN");
    await dialog().getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => cell(2)).toBe("Admin");
    await userRow("nina@example.com").getByRole("button", { name: "Edit nina@example.com" }).click();
    await dialog().getByLabel("Role").selectOption("MEMBER");
    await dialog().getByLabel("Client types").fill("partner, mobile");
    await dialog().getByRole("button", { name: "Save changes" }).click();
    await expect.poll(() => cell(2)).toBe("Member");
    expect(await cell(3)).toBe("mobile, partner");
  });

  it("issues Nina a key; keys:admin is refused next to the Scopes field", async () => {
    await userRow("nina@example.com").getByRole("button", { name: "Issue a key to nina@example.com" }).click();
    await expect.poll(() => dialog().getByRole("heading").first().textContent()).toBe("Issue a key to nina@example.com");
    await dialog().getByLabel("Name").fill("nina's partner app");
    await dialog().getByLabel("Client type").fill("partner");
    await dialog().getByLabel("Other scopes").fill("orders:read keys:admin");
    await dialog().getByRole("button", { name: "Create key" }).click();
    await expect.poll(() => dialog().locator("#key-scopes-error").textContent()).toBe("Only keys of ADMIN users may hold keys:admin.");
    await dialog().getByLabel("Other scopes").fill("orders:read");
    await dialog().getByRole("button", { name: "Create key" }).click();
    const secret = dialog().getByLabel("Secret", { exact: true });
    await secret.waitFor();
    issuedToNina = await secret.inputValue();
    await dialog().getByLabel("I have stored the secret somewhere safe").check();
    await dialog().getByRole("button", { name: "Close" }).click();
    await expect.poll(() => page.getByRole("status").filter({ hasText: "issued" }).textContent()).toBe("Key “nina's partner app” issued to nina@example.com.");

    const me = await graphqlWith(origin, issuedToNina, "{ me { apiKey { name clientType scopes } user { email } } }");
    expect(me.body).toEqual({ data: { me: { apiKey: { name: "nina's partner app", clientType: "partner", scopes: ["orders:read"] }, user: { email: "nina@example.com" } } } });
  });

  it("finds Nina's key among all keys, filtered by user, client type and status in the URL", async () => {
    await userRow("nina@example.com").getByRole("link", { name: "Keys" }).click();
    await expect.poll(heading).toBe("All keys");
    const rows = page.getByRole("region", { name: "All keys" }).locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.getByRole("cell").nth(1).textContent()).toBe("nina@example.com");
    expect(page.url()).toMatch(/\/console\/all-keys\?user=[0-9a-f-]{36}$/);
    ninaId = new URL(page.url()).searchParams.get("user")!;

    await page.getByLabel("Client type").fill("mobile");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.getByText("No keys match these filters.").count()).toBe(1);
    await page.getByLabel("Client type").fill("");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByRole("combobox", { name: "Status" }).selectOption("ACTIVE");
    await expect.poll(() => page.url()).toMatch(/status=ACTIVE/);
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByRole("combobox", { name: "User" }).selectOption("");
    await expect.poll(() => rows.count()).toBe(2); // Ada's key and Nina's
    await expectAccessible(page, "All keys");
    await screenshot(page, "all-keys-1440");

    // An admin opens anyone's key: settings, actions, and the way back to that user's keys.
    await page.getByRole("link", { name: "nina's partner app" }).click();
    await expect.poll(heading).toBe("nina's partner app");
    expect(await page.locator(".breadcrumb").textContent()).toBe("Keys of nina@example.com / nina's partner app");
    expect(await page.getByRole("group", { name: "Key actions" }).getByRole("button").allTextContents()).toEqual(["Edit", "Rotate", "Switch off", "Revoke"]);
    await expectAccessible(page, "another user's key, as an admin");
    await page.goBack();
    await expect.poll(heading).toBe("All keys");
  });

  it("disables Nina: her key stops working at once; enabling brings it back", async () => {
    await openUsersPageWith("nina@example.com");
    await userRow("nina@example.com").getByRole("button", { name: "Disable nina@example.com" }).click();
    await expect.poll(() => userRow("nina@example.com").getByRole("cell").nth(4).textContent()).toBe("Disabled");
    const off = await graphqlWith(origin, issuedToNina, "{ me { user { email } } }");
    expect(off.status).toBe(401);
    expect(off.body.errors[0].extensions).toEqual({ code: "UNAUTHENTICATED", reason: "KEY_DISABLED" });
    await screenshot(page, "users-1440");
    await userRow("nina@example.com").getByRole("button", { name: "Enable nina@example.com" }).click();
    await expect.poll(() => userRow("nina@example.com").getByRole("cell").nth(4).textContent()).toBe("Enabled");
    expect((await graphqlWith(origin, issuedToNina, "{ me { user { email } } }")).status).toBe(200);
  });

  it("shows those actions in the audit log: who, what, when, from where, the changes; filtered", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await expect.poll(heading).toBe("Audit log");
    const table = page.getByRole("region", { name: "Audit events" });
    await expect.poll(() => table.locator("tbody tr").count()).toBeGreaterThanOrEqual(4);
    const rows = await table.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)));
    expect(rows.slice(0, 2)).toEqual([
      ["now", "user.updated", "ada@example.com (admin) with key test key", "nina@example.com", "127.0.0.1", "disabledtrue → false"],
      ["now", "user.updated", "ada@example.com (admin) with key test key", "nina@example.com", "127.0.0.1", "disabledfalse → true"],
    ]);

    await page.getByRole("combobox", { name: "Action" }).selectOption("key.created");
    await expect.poll(() => page.url()).toMatch(/action=key\.created/);
    await expect.poll(() => table.locator("tbody tr td:nth-child(2)").allTextContents()).toEqual(["key.created", "key.created"]);
    expect(await table.textContent()).toContain("clientTypepartner");

    await page.getByRole("combobox", { name: "Action" }).selectOption("");
    await page.getByRole("combobox", { name: "User" }).selectOption(ninaId);
    await expect.poll(() => table.locator("tbody tr td:nth-child(2)").allTextContents()).toEqual([
      "user.updated", "user.updated", "key.created", "user.updated", "user.updated", "user.created",
    ]);
    await expectAccessible(page, "the audit log");
    await screenshot(page, "audit-1440");

    await page.getByLabel("Key id").fill("not-a-uuid");
    await page.getByRole("button", { name: "Apply" }).click();
    await expect.poll(() => page.locator("#audit-key-error").count()).toBe(1);
  });

  it("reads well at 375 px too", async () => {
    const narrow = await openConsole(browser, origin, NARROW);
    await signIn(narrow.page, admin.secret);
    for (const path of ["/console/users", "/console/all-keys", "/console/audit"]) {
      await narrow.page.goto(path);
      await narrow.page.getByRole("region").last().waitFor();
      await expectNoPageOverflow(narrow.page);
    }
    await screenshot(narrow.page, "audit-375");
    expect((await browserStorage(narrow)).session).toEqual({ "keyscope.console.key": admin.secret });
    await narrow.close();
  });

  it("kept Nina's secret out of storage, URLs and the console log", async () => {
    expect(issuedToNina).not.toBe("");
    expect(await browserStorage(c)).toEqual({ session: { "keyscope.console.key": admin.secret }, local: {}, cookies: [] });
    for (const url of c.urls) expect(url).not.toContain(issuedToNina);
    for (const line of c.consoleLog) expect(line).not.toContain(issuedToNina);
  });

  /** The users page that lists `email`, following "Next page" as a person would. */
  async function openUsersPageWith(email: string): Promise<void> {
    await page.goto("/console/users");
    const pager = page.getByRole("navigation", { name: "Pages of users" });
    await pager.waitFor();
    // A page has loaded once its rows are there; after "Next page", once its first row changed.
    const firstRow = () => page.getByRole("region", { name: "Users" }).locator("tbody tr").first().textContent();
    await expect.poll(firstRow).toBeTruthy();
    while ((await userRow(email).count()) === 0) {
      const [url, first] = [page.url(), await firstRow()];
      await pager.getByRole("button", { name: "Next page" }).click();
      await expect.poll(() => page.url()).not.toBe(url);
      await expect.poll(firstRow).not.toBe(first);
    }
  }
});
