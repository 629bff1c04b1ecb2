/**
 * Writing a file atomically, readable by the owner only unless asked otherwise:
 * env files, stack files, generated documents (whether git would pick an env file
 * up is lib/git.ts's question).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, fchmodSync, fsyncSync, linkSync, openSync, renameSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";

/** The file's content, or a function producing it (called once the temporary file exists). */
export type Content = string | Uint8Array | (() => string | Uint8Array);

/**
 * Writes `content` to `path` so that `path` is never half written: the data goes to a
 * temporary file in the same directory, created with mode 0600 (`wx`: never an existing
 * file), is synced to disk and then renamed over `path`. The result has `mode`.
 * On any error the temporary file is removed and `path` keeps its previous content.
 * With `exclusive`, the temporary file is linked to `path` instead of renamed over it,
 * which fails with `EEXIST` when `path` exists: a file made between a check and the
 * write is never replaced.
 */
export function writeFileAtomic(path: string, content: Content, mode = 0o600, opts: { readonly exclusive?: boolean } = {}): void {
  const target = resolve(path);
  const name = basename(target);
  const temp = join(dirname(target), `${name.startsWith(".") ? "" : "."}${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(temp, "wx", 0o600);
    created = true;
    writeFileSync(fd, typeof content === "function" ? content() : content);
    fchmodSync(fd, mode);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    if (opts.exclusive) {
      linkSync(temp, target);
      created = false;
      try {
        unlinkSync(temp);
      } catch {
        // the target is written; only a stray temporary name is left
      }
    } else renameSync(temp, target);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing; the original error is the one to report
      }
    }
    if (created) {
      try {
        unlinkSync(temp);
      } catch {
        // already renamed
      }
    }
    throw error;
  }
  syncDirectory(dirname(target));
  if ((statSync(target).mode & 0o777) !== mode) chmodSync(target, mode);
}

/** Makes the rename durable; best effort, as not every platform can open a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // the file itself is synced; only the directory entry may be lost on power failure
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
