/** Headless Chromium for the dashboard tests (playwright-core on the system's chromium). */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";

/** The Chromium executable: VOLFOLIO_CHROMIUM, else /usr/bin/chromium, else "" (tests skip). */
export const CHROMIUM =
  process.env.VOLFOLIO_CHROMIUM ?? (existsSync("/usr/bin/chromium") ? "/usr/bin/chromium" : "");

/** A fresh headless persistent context (own profile directory). */
export function launchChromium(
  o: {
    readonly viewport?: { width: number; height: number };
    readonly acceptDownloads?: boolean;
    readonly extraArgs?: readonly string[];
  } = {},
): Promise<BrowserContext> {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "volfolio-chromium-")), {
    executablePath: CHROMIUM,
    headless: true,
    ...(o.viewport ? { viewport: o.viewport } : {}),
    ...(o.acceptDownloads ? { acceptDownloads: true } : {}),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      ...(o.extraArgs ?? []),
    ],
  });
}
