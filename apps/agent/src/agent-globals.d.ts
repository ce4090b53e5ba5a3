/** Set by esbuild (`define`) from the root package.json, so the binary reports what it was built as. */
declare const __AGENT_VERSION__: string;
