// Debian's Chromium driven by playwright-core (no browser download), and what every page is checked for.
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { expect } from "vitest";
import { packageRoot } from "../../../src/package-root.ts";
import { startServer, type TestServer } from "../../helpers/server.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A headless Chromium, one per test file; playwright gives every launch a fresh temporary profile. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
}

export const NARROW = { width: 375, height: 800 };
export const WIDE = { width: 1440, height: 900 };

export interface ConsolePage {
  context: BrowserContext;
  page: Page;
  /** Everything the page wrote to the browser console, and its uncaught errors. */
  consoleLog: string[];
  /** Every URL the page navigated to or requested. */
  urls: string[];
  /** Alerts, confirms and prompts the page opened (an XSS would open one). */
  dialogs: string[];
  close(): Promise<void>;
}

/** A fresh browser context (own storage) on the console, with clipboard access for the copy buttons. */
export async function openConsole(browser: Browser, origin: string, viewport: { width: number; height: number }): Promise<ConsolePage> {
  const context = await browser.newContext({ viewport, baseURL: origin });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin });
  const page = await context.newPage();
  const consoleLog: string[] = [];
  const urls: string[] = [];
  const dialogs: string[] = [];
  page.on("console", (message) => consoleLog.push(`${message.type()}: ${message.text()}`));
  page.on("pageerror", (error) => consoleLog.push(`pageerror: ${error.message}`));
  page.on("request", (request) => urls.push(request.url()));
  page.on("framenavigated", (frame) => urls.push(frame.url()));
  page.on("dialog", (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto("/console");
  return { context, page, consoleLog, urls, dialogs, close: () => context.close() };
}

/** Pastes a key into the sign-in form and waits for the signed-in header. */
export async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
}

/** No serious or critical axe-core violations on the page as it is now. */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join("; ")}`);
  expect(bad, `axe on ${what}`).toEqual([]);
}

/** Nothing wider than the viewport, so the page reads without sideways scrolling (tables scroll on their own). */
export async function expectNoPageOverflow(page: Page): Promise<void> {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  expect(scroll).toBeLessThanOrEqual(width);
}

/**
 * A full-page screenshot: into docs/ for the README when SCREENSHOTS=1, else a temporary folder
 * (the page is still rendered and captured, without touching the work tree).
 */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env.SCREENSHOTS === "1" ? join(packageRoot, "docs") : join(tmpdir(), "keyscope-screenshots");
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `console-${name}.png`), fullPage: true });
}

/** The browser's own storage and cookies, to check where keys went. */
export async function browserStorage(console: ConsolePage): Promise<{ session: Record<string, string>; local: Record<string, string>; cookies: string[] }> {
  const stores = await console.page.evaluate(() => ({
    session: Object.fromEntries(Object.entries(sessionStorage)),
    local: Object.fromEntries(Object.entries(localStorage)),
  }));
  const cookies = (await console.context.cookies()).map((c) => `${c.name}=${c.value}`);
  return { ...stores, cookies };
}

/** A GraphQL request with a key, as curl would send it. */
export async function graphqlWith(origin: string, key: string, query: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${origin}/graphql`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": key }, body: JSON.stringify({ query }) });
  return { status: response.status, body: await response.json() };
}

/** A test file's browser and server: one Chromium and one fresh server on in-memory PGlite. */
export interface ConsoleSuite {
  browser: Browser;
  server: TestServer;
  /** http://127.0.0.1:<port> */
  origin: string;
  close(): Promise<void>;
}

export async function startConsoleSuite(): Promise<ConsoleSuite> {
  const [browser, server] = await Promise.all([launchBrowser(), startServer("pglite")]);
  return {
    browser,
    server,
    origin: server.url.replace(/\/graphql$/, ""),
    close: async () => {
      await browser.close();
      await server.close();
    },
  };
}

/** The page's one h1, as text. */
export const headingOf = (page: Page) => page.getByRole("heading", { level: 1 }).textContent();
