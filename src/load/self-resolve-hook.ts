/** The loader hook registered by self-resolve.ts (module.register needs a module of its own). */
import { resolveSelf } from "./self-resolve.js";

let hook: ReturnType<typeof resolveSelf> | undefined;

export function initialize(data: { url: string }): void {
  hook = resolveSelf(data.url);
}

export const resolve: ReturnType<typeof resolveSelf> = (specifier, context, next) => (hook ? hook(specifier, context, next) : next(specifier, context, next));
