/** Versions as wazo-plugind compares them, and the Wazo version of the host: see src/util/version.ts. */
export { compareVersions, currentWazoVersion, WAZO_VERSION_FILE } from "../util/version.js";
