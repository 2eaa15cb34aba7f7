/**
 * One writer per root: a lock file in the state folder, created exclusively and holding the
 * owner's pid. A second run waits up to the timeout; a lock whose process is gone is taken over.
 */
import { mkdir, open, readFile, rename, rmdir, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { TaskFailure } from "../model/diagnostic.js";
import { stateDir } from "../state/manifest.js";

export interface Lock {
  release(): Promise<void>;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function acquireLock(root: string, timeoutMs: number, onWait?: (pid: number) => void): Promise<Lock> {
  const dir = stateDir(root);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, "lock");
  const deadline = Date.now() + timeoutMs;
  let told = false;
  for (;;) {
    try {
      const fh = await open(file, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const holder = parseInt(await readFile(file, "utf8").catch(() => ""), 10);
    if (Number.isFinite(holder) && !alive(holder)) {
      // Stale: take it over atomically so two waiters cannot both win.
      const mine = `${file}.${process.pid}`;
      await writeFile(mine, `${process.pid}\n`);
      const again = parseInt(await readFile(file, "utf8").catch(() => ""), 10);
      if (again === holder) {
        await rename(mine, file);
        const check = parseInt(await readFile(file, "utf8").catch(() => ""), 10);
        if (check === process.pid) break;
      } else await unlink(mine).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline)
      throw new TaskFailure("lock-held", `another wazo-tasks run (pid ${Number.isFinite(holder) ? holder : "unknown"}) holds the lock ${file}`, [], "wait for it to finish, or raise --lock-timeout");
    if (!told && Number.isFinite(holder)) onWait?.(holder);
    told = true;
    await sleep(25 + Math.random() * 50);
  }
  return {
    async release() {
      await unlink(file).catch(() => undefined);
      // Leave no empty state folder behind: once the last plugin is gone, the state folder and
      // the empty folders above it (inside the root) go too.
      await rmdir(path.join(dir, "installed")).catch(() => undefined);
      const top = path.resolve(root);
      for (let d = dir; d.length > top.length; d = path.dirname(d)) if (!(await rmdir(d).then(() => true, () => false))) break;
    },
  };
}
