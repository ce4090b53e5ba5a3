// Preloaded into the hub by the fleet benchmark only (node --expose-gc --require this-file). On
// SIGWINCH it collects garbage and writes process.memoryUsage() to OUTPOST_BENCH_MEMORY_FILE, so
// the benchmark can tell live memory per agent from heap the connect burst left to be collected.
// With OUTPOST_BENCH_CPU_PROFILE=<dir> it also profiles the CPU and writes the profile of the time
// since the previous signal to <dir>/<prefix>-<n>.cpuprofile (open it in Chrome DevTools); the prefix is
// OUTPOST_BENCH_CPU_PROFILE_PREFIX, `hub` when unset.
const { mkdirSync, writeFileSync } = require('node:fs');
const { Session } = require('node:inspector');

const profileDir = process.env.OUTPOST_BENCH_CPU_PROFILE;
const profilePrefix = process.env.OUTPOST_BENCH_CPU_PROFILE_PREFIX ?? 'hub';
let profiles = 0;
const session = profileDir ? new Session() : undefined;
if (session) {
  mkdirSync(profileDir, { recursive: true });
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
}

process.on('SIGWINCH', () => {
  global.gc();
  writeFileSync(process.env.OUTPOST_BENCH_MEMORY_FILE, JSON.stringify(process.memoryUsage()));
  session?.post('Profiler.stop', (error, result) => {
    profiles += 1;
    if (!error) writeFileSync(`${profileDir}/${profilePrefix}-${profiles}.cpuprofile`, JSON.stringify(result.profile));
    session.post('Profiler.start');
  });
});
