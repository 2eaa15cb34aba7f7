/**
 * The folder for temporary files, read from an environment handed down (the run's host) rather
 * than from the process: the same answer as Node's os.tmpdir on Linux and other POSIX systems.
 * TMPDIR, else TMP, else TEMP (an empty value counts as unset), else /tmp; one trailing slash
 * removed, except from "/" itself.
 */
export function tempDirOf(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env.TMPDIR || env.TMP || env.TEMP || "/tmp";
  return dir.length > 1 && dir.endsWith("/") ? dir.slice(0, -1) : dir;
}
