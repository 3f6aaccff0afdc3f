// `lab down` leaves nothing behind, whatever state the lab is in: after a crash that
// killed every process, with processes alive but .lab/ gone, after a failed `lab up`,
// and when run twice. Root only; uses the real hl-* namespaces.
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { labDown } from '../../lab/lab-down.js';
import { labUp } from '../../lab/lab-up.js';
import { main } from '../../lab/main.js';
import { labPaths } from '../../lab/paths.js';
import { isAlive, readRecords } from '../../lab/processes.js';
import { labNamespaces } from '../../lab/topology.js';
import { hostLabFootprint, isRoot, leftovers } from './helpers.js';

const paths = labPaths();

(isRoot ? describe : describe.skip)('lab teardown', function () {
  this.timeout(120_000);
  let hostBefore: string[];

  before(async function () {
    await labDown(paths);
    hostBefore = await hostLabFootprint();
  });

  afterEach(async function () {
    await labDown(paths);
    assert.deepEqual(await leftovers(paths), []);
    assert.deepEqual(await hostLabFootprint(), hostBefore, 'the host namespace is as before');
  });

  it('cleans up after a crash that killed every process and lost .lab/ state', async function () {
    await labUp(paths, { nodes: 2, router: { kind: 'frr', ibgp: false }, components: false, api: false });
    const recs = readRecords(paths);
    assert.ok(recs.length >= 4, `processes recorded: ${recs.map((r) => r.name).join(' ')}`);
    for (const r of recs) process.kill(r.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(recs.every((r) => !isAlive(r)), 'all killed');
    rmSync(paths.state, { force: true });
    rmSync(paths.pids, { recursive: true, force: true });
    assert.ok((await labNamespaces()).length > 0, 'the namespaces outlived the crash');

    const first = await labDown(paths);
    assert.deepEqual(first.problems, []);
    assert.equal(first.namespaces.length, 5);
    assert.deepEqual(await leftovers(paths), []);
    const second = await labDown(paths);
    assert.deepEqual(second, { processes: 0, namespaces: [], problems: [] }, 'a second run finds nothing to do');
  });

  it('finds processes that are still alive when .lab/ is gone (herald components included)', async function () {
    await labUp(paths, { nodes: 2, router: { kind: 'gobgp', ibgp: false }, components: true });
    const names = readRecords(paths).map((r) => r.name);
    for (const want of ['apiserver', 'lab-agent', 'controller', 'speaker-hl-node1', 'speaker-hl-node2', 'router-gobgpd', 'router-gobgp-fib']) {
      assert.ok(names.includes(want), `${want} started (${names.join(' ')})`);
    }
    assert.ok((await leftovers(paths)).some((l) => l.startsWith('marked pid')), 'host-namespace processes carry the marker');
    rmSync(paths.pids, { recursive: true, force: true });
    rmSync(paths.state, { force: true });
    const r = await labDown(paths);
    assert.deepEqual(r.problems, []);
    assert.ok(r.processes >= names.length, `${r.processes} stopped`);
    assert.deepEqual(await leftovers(paths), []);
    assert.ok(!existsSync(paths.apiSocket) && !existsSync(paths.kubeconfig));
  });

  it('takes down what a failed lab up built', async function () {
    // BIRD's file cannot carry a key with a quote: the router step fails after the
    // namespaces exist.
    await assert.rejects(
      labUp(paths, { nodes: 1, router: { kind: 'bird', ibgp: false, password: 'bad"key' }, components: false, api: false }),
      /failed at the bird router/,
    );
    assert.deepEqual(await leftovers(paths), []);
  });

  it('refuses a second lab up, and bad flags, from the command line', async function () {
    assert.equal(await main(['up', '--router', 'cisco']), 2);
    assert.equal(await main(['up', '--nodes', '0']), 2);
    await labUp(paths, { nodes: 1, router: { kind: 'frr', ibgp: false }, components: false, api: false });
    assert.equal(await main(['up', '--no-api', '--nodes', '1']), 1, 'already up');
    assert.equal(await main(['down']), 0);
    assert.equal(await main(['down']), 0);
    assert.deepEqual(await labNamespaces(), []);
  });
});
