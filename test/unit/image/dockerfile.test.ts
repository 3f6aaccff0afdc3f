// The image cannot be built here (no Docker engine), so the Dockerfile is checked as
// text: pinned base images, a build stage that installs, builds the native addons and
// compiles the TypeScript (tsconfig.build.json, as `npm run build`), a runtime stage
// without compilers or sources that runs the compiled CLI, a non-root user, and a
// .dockerignore that keeps the host's builds and the tests out. The runtime side is
// checked against the sources: what the image compiles is all the components import,
// and every package they import survives `npm prune --omit=dev`.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const ROOT = new URL('../../../', import.meta.url).pathname.replace(/\/$/, '');
const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');

interface Instruction {
  cmd: string;
  args: string;
  heredoc?: string;
}
interface Stage {
  from: string;
  name?: string;
  body: Instruction[];
}

/** Dockerfile instructions: comments dropped, continuations joined, heredocs attached. */
function parseDockerfile(text: string): Instruction[] {
  const lines = text.split('\n');
  const out: Instruction[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i] as string;
    if (/^\s*(#|$)/.test(line)) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + ' ' + (lines[++i] as string).trim();
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m, `Dockerfile line ${i + 1}: ${line}`);
    const ins: Instruction = { cmd: (m[1] as string).toUpperCase(), args: (m[2] as string).trim() };
    const here = /<<-?['"]?([A-Za-z_]+)['"]?/.exec(ins.args);
    if (here) {
      const body: string[] = [];
      while (++i < lines.length && lines[i] !== here[1]) body.push(lines[i] as string);
      ins.heredoc = body.join('\n');
    }
    out.push(ins);
  }
  return out;
}

function stages(ins: Instruction[]): Stage[] {
  const out: Stage[] = [];
  for (const i of ins) {
    if (i.cmd === 'FROM') {
      const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(i.args);
      assert.ok(m, `FROM ${i.args}`);
      out.push({ from: m[1] as string, ...(m[2] ? { name: m[2] } : {}), body: [] });
    } else {
      assert.ok(out.length > 0, `${i.cmd} before FROM`);
      (out[out.length - 1] as Stage).body.push(i);
    }
  }
  return out;
}

const dockerfile = read('Dockerfile');
const all = parseDockerfile(dockerfile);
const [build, runtime, ...extra] = stages(all);
const buildConfig = JSON.parse(read('tsconfig.build.json')) as { extends: string; compilerOptions: { outDir: string; rootDir: string; noEmit: boolean }; include: string[] };
const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string>; dependencies: Record<string, string>; devDependencies: Record<string, string>; engines?: { node?: string } };
const runs = (s: Stage): string[] => s.body.filter((i) => i.cmd === 'RUN').map((i) => i.args);
const indexOf = (s: Stage, pred: (i: Instruction) => boolean): number => s.body.findIndex(pred);

const COMPILERS = /(^|[\s;&|])(gcc|g\+\+|cc|make|python3?|build-essential|node-gyp)(?=$|[\s;&|])/;
const RUNTIME_DIRS = ['shared', 'controller', 'speaker'];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((f) => !f.includes('/build/') && !f.includes('node_modules'));
}

/** Module specifiers a file loads at run time (type-only imports are erased). */
function runtimeImports(source: string): string[] {
  const out: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)) {
    if (!m[1]) out.push(m[2] as string);
  }
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1] as string);
  return out;
}

describe('image: Dockerfile', () => {
  it('uses BuildKit syntax 1 (heredocs) and has exactly a build and a runtime stage', () => {
    assert.match(dockerfile.split('\n')[0] ?? '', /^# syntax=docker\/dockerfile:1$/);
    assert.ok(build && runtime, 'two stages');
    assert.deepEqual(extra, []);
    assert.equal(build.name, 'build');
  });

  it('pins both stages to one exact Node 20 release on Debian bookworm slim, within package.json engines', () => {
    for (const s of [build, runtime]) assert.match(s?.from ?? '', /^node:20\.\d+\.\d+-bookworm-slim$/);
    assert.equal(build?.from, runtime?.from);
    const [, minor] = /^node:20\.(\d+)\./.exec(build?.from ?? '') ?? [];
    const min = /^>=\s*20\.(\d+)/.exec(pkg.engines?.node ?? '>=20.0');
    assert.ok(Number(minor) >= Number(min?.[1] ?? 0), `${build?.from} is older than engines ${pkg.engines?.node}`);
  });

  it('build stage: compilers, npm ci with the native addon sources in place, the TypeScript build, prune', () => {
    assert.ok(build);
    const r = runs(build);
    const apt = r.find((x) => /apt-get install/.test(x)) ?? '';
    for (const tool of ['python3', 'make', 'g++']) assert.ok(apt.split(/\s+/).includes(tool), `build stage installs ${tool}`);
    const ci = indexOf(build, (i) => i.cmd === 'RUN' && /\bnpm ci\b/.test(i.args));
    assert.ok(ci >= 0, 'npm ci');
    for (const src of ['package.json', 'package-lock.json', 'speaker/native/']) {
      const copy = indexOf(build, (i) => i.cmd === 'COPY' && i.args.split(/\s+/).includes(src));
      assert.ok(copy >= 0 && copy < ci, `${src} is copied before npm ci`);
    }
    assert.ok(r.some((x) => x.includes('test -f speaker/native/build/Release/herald_native.node')), 'the build fails without the native addon');
    const tsc = indexOf(build, (i) => i.cmd === 'RUN' && /\btsc -p tsconfig\.build\.json\b/.test(i.args));
    const prune = indexOf(build, (i) => i.cmd === 'RUN' && /\bnpm prune --omit=dev\b/.test(i.args));
    assert.ok(tsc > ci && prune >= tsc, 'build, then prune, after npm ci');
    assert.ok(runs(build).some((x) => x.includes('test -f dist/shared/cli.js')), 'the build fails without the compiled CLI');
    const conf = indexOf(build, (i) => i.cmd === 'COPY' && i.args.split(/\s+/).includes('tsconfig.build.json'));
    assert.ok(conf >= 0 && conf < tsc, 'tsconfig.build.json is copied before the build');
    for (const dir of RUNTIME_DIRS) {
      const copy = indexOf(build, (i) => i.cmd === 'COPY' && i.args === `${dir}/ ${dir}/`);
      assert.ok(copy >= 0 && copy < tsc, `${dir}/ is copied before the type check`);
    }
  });

  it('the build (npm run build) compiles the runtime sources to dist/, with the repository tsconfig\'s checks', () => {
    assert.equal(pkg.scripts.build, 'tsc -p tsconfig.build.json');
    assert.equal(buildConfig.extends, './tsconfig.json');
    assert.equal(buildConfig.compilerOptions.noEmit, false);
    assert.equal(buildConfig.compilerOptions.outDir, 'dist');
    assert.equal(buildConfig.compilerOptions.rootDir, '.', 'dist/shared/cli.js mirrors shared/cli.ts');
    for (const dir of RUNTIME_DIRS) assert.ok(buildConfig.include.includes(dir), `tsconfig.build.json includes ${dir}`);
  });

  it('stands in for each test/ command the CLI loads, since test/ is not in the image', () => {
    const stubs = new Map((build?.body ?? []).filter((i) => i.cmd === 'COPY' && i.heredoc !== undefined).map((i) => [i.args.split(/\s+/).pop() ?? '', i.heredoc ?? '']));
    const lazy = [...read('shared/cli.ts').matchAll(/import\(\s*'\.\.\/(test\/[^']+)\.js'\s*\)/g)].map((m) => `${m[1]}.ts`);
    assert.deepEqual(lazy.sort(), ['test/apiserver/main.ts', 'test/lab/main.ts']);
    for (const f of lazy) {
      assert.match(stubs.get(f) ?? '', /export async function main\(\): Promise<number>/, `${f} stand-in`);
      assert.match(stubs.get(f) ?? '', /not part of the image/);
    }
  });

  it('runtime stage: no compilers, no package installs, only the pruned modules, the compiled JavaScript and the addon', () => {
    assert.ok(runtime);
    for (const r of runs(runtime)) assert.doesNotMatch(r, COMPILERS);
    assert.deepEqual(runs(runtime), [], 'nothing runs in the runtime stage');
    const copies = runtime.body.filter((i) => i.cmd === 'COPY').map((i) => i.args);
    for (const c of copies) assert.match(c, /^--from=build /, `runtime copies only from the build stage: ${c}`);
    const sources = copies.map((c) => c.split(/\s+/)[1]);
    assert.deepEqual(sources.sort(), [
      '/app/dist/',
      '/app/node_modules/',
      '/app/package.json',
      '/app/speaker/native/build/Release/herald_native.node',
      '/app/speaker/native/package.json',
    ]);
    // node_modules/herald-native links to speaker/native, whose package.json names the addon.
    const native = JSON.parse(read('speaker/native/package.json')) as { main: string };
    assert.equal(`speaker/native/${native.main}`, 'speaker/native/build/Release/herald_native.node');
    for (const c of copies.filter((x) => x.includes('speaker/native'))) {
      const [src, dest] = c.split(/\s+/).slice(1);
      assert.equal(src, `/app/${dest}`, `copied to the same place: ${c}`);
    }
  });

  it('runs the compiled CLI as entrypoint, exactly as `npm run herald:compiled` does, without tsx', () => {
    const ep = runtime?.body.filter((i) => i.cmd === 'ENTRYPOINT') ?? [];
    assert.equal(ep.length, 1);
    const argv = JSON.parse(ep[0]?.args ?? '[]') as string[];
    // Node's heap flags are the components' own (NODE_OPTIONS in their manifests).
    assert.deepEqual(argv, ['node', 'dist/shared/cli.js']);
    assert.deepEqual(argv, pkg.scripts['herald:compiled']?.split(' '));
    assert.equal(`${buildConfig.compilerOptions.outDir}/shared/cli.js`, argv[argv.length - 1]);
    const wd = runtime?.body.filter((i) => i.cmd === 'WORKDIR').map((i) => i.args);
    assert.deepEqual(wd, ['/app']);
  });

  it('runs as a numeric non-root user (kubelet can verify runAsNonRoot)', () => {
    const users = runtime?.body.filter((i) => i.cmd === 'USER').map((i) => i.args) ?? [];
    assert.equal(users.length, 1);
    const m = /^(\d+)(?::(\d+))?$/.exec(users[0] ?? '');
    assert.ok(m, `USER ${users[0]} is numeric`);
    assert.notEqual(Number(m[1]), 0);
  });

  it('package.json: the native addon is a runtime dependency', () => {
    assert.equal(pkg.dependencies['herald-native'], 'file:speaker/native');
  });

  it('every package the components load at run time survives npm prune --omit=dev, and nothing outside the copied folders is loaded', () => {
    const builtins = new Set(['node']);
    const lazyTestCommands: string[] = [];
    const packages = new Set<string>();
    for (const f of RUNTIME_DIRS.flatMap(tsFiles)) {
      for (const spec of runtimeImports(read(f))) {
        if (spec.startsWith('node:') || builtins.has(spec)) continue;
        if (spec.startsWith('.')) {
          const target = relative(ROOT, resolve(ROOT, dirname(f), spec));
          if (!RUNTIME_DIRS.some((d) => target.startsWith(`${d}/`))) lazyTestCommands.push(`${f} -> ${target}`);
          continue;
        }
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : (spec.split('/')[0] as string);
        packages.add(name);
        assert.ok(pkg.dependencies[name], `${f} loads ${name}, which is ${pkg.devDependencies[name] ? 'a devDependency (pruned from the image)' : 'not a dependency'}`);
      }
    }
    assert.deepEqual(lazyTestCommands.sort(), ['shared/cli.ts -> test/apiserver/main.js', 'shared/cli.ts -> test/lab/main.js']);
    for (const p of ['js-yaml', 'pino', 'prom-client']) assert.ok(packages.has(p), `the scan found no import of ${p}`);
    // Its index loads every generated model and API class: ~75 MB of RSS (DESIGN.md, "Targets").
    assert.ok(!packages.has('@kubernetes/client-node'), 'no component loads @kubernetes/client-node at run time');
  });

  it('copies only files that exist and that .dockerignore lets in', () => {
    const ignore = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const must of ['.git', 'node_modules', '.lab', 'coverage', 'test', 'speaker/native/build']) assert.ok(ignore.includes(must), `.dockerignore lacks ${must}`);
    const ignored = (p: string): boolean => ignore.some((pat) => !pat.startsWith('!') && (p === pat || p.startsWith(`${pat}/`) || (pat.startsWith('*.') && p.endsWith(pat.slice(1)))));
    for (const c of build?.body.filter((i) => i.cmd === 'COPY' && !i.heredoc) ?? []) {
      for (const src of c.args.split(/\s+/).slice(0, -1)) {
        const p = src.replace(/\/$/, '');
        assert.ok(existsSync(join(ROOT, p)), `COPY ${p}: no such file`);
        assert.ok(!ignored(p), `COPY ${p} is excluded by .dockerignore`);
      }
    }
  });

  it('the parser sees a compiler in a runtime stage (negative control)', () => {
    const bad = stages(parseDockerfile('FROM node:20.20.2-bookworm-slim AS build\nRUN true\nFROM node:20.20.2-bookworm-slim\nRUN apt-get update \\\n && apt-get install -y g++\n'));
    assert.match(runs(bad[1] as Stage)[0] ?? '', COMPILERS);
  });
});
