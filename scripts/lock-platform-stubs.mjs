#!/usr/bin/env node
// The npm registry this project's machines reach is a mirror that carries only some
// platform builds of packages with per-platform optional dependencies (e.g. it has
// @biomejs/cli-linux-x64 but 404s @biomejs/cli-darwin-x64). npm then writes a lock file
// without the missing platforms, and `npm ci` refuses it ("Missing: X@ from lock file").
// This script adds lock entries for those platform packages (version, os, cpu, libc from
// the package name; no integrity, as npm only checks it when it downloads, which it never
// does on a platform the entry excludes). Re-run after `npm install` changes the lock:
//   node scripts/lock-platform-stubs.mjs
import { readFileSync, writeFileSync } from "node:fs";

const path = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(path, "utf8"));
const packages = lock.packages;

/** Platform constraints read from a platform package's name, or undefined when it is not one. */
function platformOf(name) {
  const os = ["android", "darwin", "linux", "win32", "freebsd"].find((o) => name.includes(`-${o}-`) || name.endsWith(`-${o}`));
  const cpu = ["arm64", "x64", "arm", "ia32"].find((c) => new RegExp(`-${c}(-|$)`).test(name));
  if (!os || !cpu) return undefined;
  const entry = { os: [os], cpu: [cpu] };
  if (os === "linux") entry.libc = [name.includes("musl") ? "musl" : "glibc"];
  return entry;
}

let added = 0;
for (const [key, pkg] of Object.entries(packages)) {
  for (const [dep, range] of Object.entries(pkg.optionalDependencies ?? {})) {
    const base = key === "" ? "node_modules" : `${key}/node_modules`;
    if (packages[`${base}/${dep}`] || packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    const version = String(range).replace(/^[\^~=]/, "");
    if (!/^\d+\.\d+\.\d+/.test(version)) continue;
    packages[`node_modules/${dep}`] = {
      version,
      ...(pkg.dev ? { dev: true } : {}),
      ...(pkg.devOptional ? { devOptional: true } : {}),
      optional: true,
      ...platform,
    };
    added++;
    console.log(`added ${dep}@${version} (${platform.os}/${platform.cpu})`);
  }
}
const sorted = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)));
lock.packages = sorted;
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`${added} platform entries added`);
