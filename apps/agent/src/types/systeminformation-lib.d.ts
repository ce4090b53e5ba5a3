// systeminformation's index loads every one of its modules (graphics, wifi, docker, printers, ...)
// when first required, and the whole of it stays in the agent's memory as bundled source. The
// agent imports the three modules it uses directly; their functions are the index's, so they are
// typed from its declarations.
declare module 'systeminformation/lib/memory' {
  export { mem } from 'systeminformation';
}
declare module 'systeminformation/lib/filesystem' {
  export { fsSize } from 'systeminformation';
}
declare module 'systeminformation/lib/osinfo' {
  export { osInfo } from 'systeminformation';
}
