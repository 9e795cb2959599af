import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class DataDirLockedError extends Error {
  override name = "DataDirLockedError";
}

/** Releases the lock; safe to call twice. */
export type ReleaseLock = () => void;

const LOCK_FILE = "keyscope.lock";

/**
 * Holds an embedded data directory for one process: PGlite must not be opened twice. The lock
 * file names the holder's pid, so a lock left by a crashed process is taken over at once.
 */
export function lockDataDir(dataDir: string, holder: string): ReleaseLock {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, JSON.stringify({ pid: process.pid, holder }), { flag: "wx" });
      return () => releaseIfOurs(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const other = readHolder(path);
      if (other && isAlive(other.pid)) {
        throw new DataDirLockedError(
          `The data directory ${dataDir} is in use by the Keyscope ${other.holder} (pid ${other.pid}). ` +
            `Stop it first, or point DATABASE_URL at PostgreSQL to share one database between processes.`,
        );
      }
      unlinkSync(path); // left behind by a process that is gone
    }
  }
  throw new DataDirLockedError(`Could not lock the data directory ${dataDir}; another process keeps taking it.`);
}

/** The live process holding `dataDir`, if any (a lock left by a dead process does not count). */
export function liveLockHolder(dataDir: string): { pid: number; holder: string } | undefined {
  const holder = readHolder(join(dataDir, LOCK_FILE));
  return holder && isAlive(holder.pid) ? holder : undefined;
}

function readHolder(path: string): { pid: number; holder: string } | undefined {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { pid?: unknown; holder?: unknown };
    return typeof parsed.pid === "number" ? { pid: parsed.pid, holder: String(parsed.holder ?? "process") } : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function releaseIfOurs(path: string): void {
  try {
    if (readHolder(path)?.pid === process.pid) unlinkSync(path);
  } catch {
    // already gone
  }
}
