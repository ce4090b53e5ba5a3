/** Set by esbuild (`define`) from the root package.json, so the binary reports what it was built as. */
declare const __AGENT_VERSION__: string;

/** Text files bundled as strings (`?raw`): vite in tests, an esbuild plugin in the build. */
declare module '*?raw' {
  const text: string;
  export default text;
}
