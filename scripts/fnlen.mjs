#!/usr/bin/env node
/**
 * Lists functions longer than a limit (default 80 lines, issue 25: small functions).
 * Usage: node scripts/fnlen.mjs [--max N] [paths...]   (default path: src)
 * Counts every function, method and arrow function, nested ones included, from its first to its last line.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const args = process.argv.slice(2);
let max = 80;
const roots = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--max") max = Number(args[++i]);
  else roots.push(args[i]);
}
if (roots.length === 0) roots.push("src");

const found = [];
function walk(p) {
  if (fs.statSync(p).isDirectory()) for (const f of fs.readdirSync(p)) walk(path.join(p, f));
  else if (p.endsWith(".ts") && !p.endsWith(".d.ts")) check(p);
}
function nameOf(n) {
  if (n.name) return n.name.getText();
  const p = n.parent;
  if (p && (ts.isVariableDeclaration(p) || ts.isPropertyAssignment(p)) && p.name) return p.name.getText();
  if (p && ts.isCallExpression(p)) return `${p.expression.getText().slice(0, 40)}(callback)`;
  return "<anonymous>";
}
function check(file) {
  const src = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  const visit = (n) => {
    if (ts.isFunctionDeclaration(n) || ts.isFunctionExpression(n) || ts.isArrowFunction(n) || ts.isMethodDeclaration(n)) {
      const start = src.getLineAndCharacterOfPosition(n.getStart()).line;
      const end = src.getLineAndCharacterOfPosition(n.end).line;
      const lines = end - start + 1;
      if (lines > max) found.push({ lines, file, line: start + 1, name: nameOf(n) });
    }
    ts.forEachChild(n, visit);
  };
  visit(src);
}
for (const r of roots) walk(r);
found.sort((a, b) => b.lines - a.lines);
for (const f of found) console.log(`${String(f.lines).padStart(4)}  ${f.file}:${f.line}  ${f.name}`);
console.log(`${found.length} function(s) over ${max} lines`);
process.exitCode = found.length > 0 ? 1 : 0;
