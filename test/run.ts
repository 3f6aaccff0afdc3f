// Runs every mocha suite that applies on this machine and ends with one plain line,
// `N passed, N failed, N skipped`, that people and CI read. Unit tests always run;
// integration tests need nothing but Node; the lab's end-to-end tests need root and
// network namespaces, and are skipped (and said so) without them.
import Mocha from 'mocha';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const groups: { name: string; dir: string; timeout: number; needsRoot?: boolean }[] = [
  { name: 'unit', dir: 'test/unit', timeout: 20_000 },
  { name: 'integration', dir: 'test/integration', timeout: 60_000 },
  { name: 'e2e', dir: 'test/e2e', timeout: 180_000, needsRoot: true },
];

function testFiles(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.test.ts'))
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
}

const only = process.argv.slice(2);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
let passed = 0;
let failed = 0;
let skipped = 0;

for (const g of groups) {
  if (only.length > 0 && !only.includes(g.name)) continue;
  const files = testFiles(g.dir);
  if (files.length === 0) continue;
  if (g.needsRoot && !isRoot) {
    console.log(`\n# ${g.name}: skipped (${files.length} files): needs root for network namespaces`);
    continue;
  }
  console.log(`\n# ${g.name} (${files.length} files)`);
  const mocha = new Mocha({ timeout: g.timeout, reporter: 'spec' });
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const runner = await new Promise<Mocha.Runner>((resolve) => {
    const r = mocha.run(() => resolve(r));
  });
  passed += runner.stats?.passes ?? 0;
  failed += runner.stats?.failures ?? 0;
  skipped += runner.stats?.pending ?? 0;
  mocha.dispose();
}

console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exitCode = failed > 0 ? 1 : 0;

// Every test stops what it started, so the process ends here. Something a test left
// running (a timer chain, a socket, a child) would otherwise hold CI until its time limit
// with every test green; a stopped controller's event recorder once did, for minutes.
const EXIT_GRACE_MS = 30_000;
setTimeout(() => {
  console.log(`\nstill running ${EXIT_GRACE_MS / 1000} s after the last test, left behind: ${process.getActiveResourcesInfo().join(', ')}`);
  process.exit(1);
}, EXIT_GRACE_MS).unref();
