/**
 * Opening input files (chains, books, specs, strategies, price histories) so that a missing,
 * unreadable or corrupt file is ONE clear error naming the path, never an unhandled stream
 * 'error' event (regression: `createReadStream(missing).pipe(createGunzip())` does not forward
 * the ENOENT of the file stream to the gunzip stream, so nobody listened and Node crashed).
 *
 * Errors are `InputFileError` with `code`:
 *   ENOENT   the path does not exist                       (CLI exit 3: input unavailable)
 *   EACCES   permission denied                             (CLI exit 3)
 *   EISDIR   the path is a directory, not a file           (CLI exit 3)
 *   EBADGZIP the file starts like gzip but does not inflate (CLI exit 2: bad input file)
 * (and any other Node error code, passed through with the path in the message).
 *
 * A file that opens but whose CONTENT is wrong (not JSON, an unknown format, a field of the wrong
 * type, an implausible value) is a `BadInputFileError` naming the path and every problem
 * (CLI exit 2: bad input file), never a number made up from it.
 */
import { createReadStream, constants as fsConstants } from "node:fs";
import { access, readFile, stat } from "node:fs/promises";
import { PassThrough, type Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** A file that could not be opened or decoded; the message names the path. */
export class InputFileError extends Error {
  readonly code: string;
  readonly path: string;
  constructor(message: string, code: string, path: string) {
    super(message);
    this.name = "InputFileError";
    this.code = code;
    this.path = path;
  }
}

/**
 * A file that was read but whose content is wrong: `problems` lists each one (field, position or
 * line, and the offending value); the message names the path. The CLI maps it to exit 2.
 */
export class BadInputFileError extends Error {
  readonly path: string;
  readonly problems: readonly string[];
  constructor(path: string, problems: readonly string[], message?: string) {
    super(message ?? `${path}: ${problems.join("; ")}`);
    this.name = "BadInputFileError";
    this.path = path;
    this.problems = problems;
  }
}

/** Turns a Node fs error for `path` into an InputFileError (`what` e.g. "chain file"). */
export function inputFileError(err: unknown, path: string, what = "file"): InputFileError {
  if (err instanceof InputFileError) return err;
  const e = err as { code?: string; message?: string };
  const code = typeof e?.code === "string" ? e.code : "EIO";
  switch (code) {
    case "ENOENT":
      return new InputFileError(`${what} not found: ${path}`, code, path);
    case "ENOTDIR":
      return new InputFileError(
        `${what} not found: ${path} (not a directory, or a parent is not)`,
        code,
        path,
      );
    case "EACCES":
    case "EPERM":
      return new InputFileError(`cannot read ${what} ${path}: permission denied`, code, path);
    case "EISDIR":
      return new InputFileError(`cannot read ${what} ${path}: it is a directory`, code, path);
    case "Z_DATA_ERROR":
    case "Z_BUF_ERROR":
    case "EBADGZIP":
      return new InputFileError(
        `cannot read ${what} ${path}: not valid gzip (${(e?.message ?? code).split("\n")[0]})`,
        "EBADGZIP",
        path,
      );
    default:
      return new InputFileError(
        `cannot read ${what} ${path}: ${(e?.message ?? String(err)).split("\n")[0]}`,
        code,
        path,
      );
  }
}

/** Throws an InputFileError unless `path` is a readable regular file. */
export async function checkInputFile(path: string, what = "file"): Promise<void> {
  try {
    const s = await stat(path);
    if (s.isDirectory()) throw Object.assign(new Error("is a directory"), { code: "EISDIR" });
    await access(path, fsConstants.R_OK);
  } catch (e) {
    throw inputFileError(e, path, what);
  }
}

/** Reads a whole text file (UTF-8), with InputFileError on failure. */
export async function readInputText(path: string, what = "file"): Promise<string> {
  await checkInputFile(path, what);
  try {
    return await readFile(path, "utf8");
  } catch (e) {
    throw inputFileError(e, path, what);
  }
}

/** Reads a whole file as bytes, with InputFileError on failure. */
export async function readInputBytes(path: string, what = "file"): Promise<Buffer> {
  await checkInputFile(path, what);
  try {
    return await readFile(path);
  } catch (e) {
    throw inputFileError(e, path, what);
  }
}

/**
 * A readable stream of the file's (optionally gunzipped) bytes. Every error (of the file stream or
 * of the decompressor) is emitted once, as an InputFileError, on the returned stream; consumers
 * that iterate it (`for await`, csv-parse via `forwardStreamErrors`) see a rejected promise.
 */
export function inputFileStream(path: string, o: { gzip: boolean; what?: string }): Readable {
  const what = o.what ?? "file";
  const raw = createReadStream(path);
  const out = new PassThrough();
  raw.on("error", (e) => out.destroy(inputFileError(e, path, what)));
  // A consumer that stops early (destroys `out`) releases the file too.
  out.on("close", () => raw.destroy());
  if (!o.gzip) return raw.pipe(out);
  const gunzip = createGunzip();
  gunzip.on("error", (e) =>
    out.destroy(inputFileError({ code: "EBADGZIP", message: e.message }, path, what)),
  );
  out.on("close", () => gunzip.destroy());
  return raw.pipe(gunzip).pipe(out);
}

/** Makes an error of `source` destroy `target` with it (Readable.pipe does not forward errors). */
export function forwardStreamErrors<T extends NodeJS.ReadableStream | NodeJS.WritableStream>(
  source: Readable,
  target: T,
): T {
  source.on("error", (e) => (target as unknown as { destroy(e: Error): void }).destroy(e));
  return target;
}
