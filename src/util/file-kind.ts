/** Names for what a path is, for messages that refuse it. */
export type FileKind = Record<"isDirectory" | "isSymbolicLink" | "isFIFO" | "isSocket" | "isCharacterDevice" | "isBlockDevice" | "isFile", () => boolean>;

/** What a non-regular file is, in words. */
export function kindOf(st: FileKind): string {
  if (st.isDirectory()) return "a folder";
  if (st.isSymbolicLink()) return "a symbolic link";
  if (st.isFIFO()) return "a FIFO (named pipe)";
  if (st.isSocket()) return "a socket";
  if (st.isCharacterDevice()) return "a character device";
  if (st.isBlockDevice()) return "a block device";
  return st.isFile() ? "a file" : "an unknown kind of file";
}
