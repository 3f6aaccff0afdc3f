// herald's BGP sessions against real routers: FRR (bgpd + zebra), BIRD 2 and GoBGP, each
// in its own network namespace with herald's sessions in two node namespaces (lab.ts).
// Needs root; skipped otherwise.
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import type { Advertisement, SessionConfig } from '../../../speaker/bgp/session.js';
import * as lab from './lab.js';
import { N1, N2, NODE_ASN, NS, PASSIVE_PASSWORD, PASSWORD, ROUTER, ROUTER_ASN, advertisement, community, sessionConfig, sh, waitFor, type FrrRouter, type RouterDaemon, type Runner } from './lab.js';
import { routesFor, type SeenRoute } from './routes.js';

const notRunnable = lab.canRunLab();

/** n1's eBGP session over IPv4, TCP-MD5, both families. */
const n1v4 = (over: Partial<SessionConfig> = {}): SessionConfig => sessionConfig({ name: 'router-v4', peerAddress: ROUTER.a4, sourceAddress: N1.v4, password: PASSWORD, ...over });

async function routeSeen(router: RouterDaemon, prefix: string, check: (r: SeenRoute[]) => boolean = (r) => r.length > 0, timeoutMs = 10_000): Promise<SeenRoute[]> {
  return waitFor(`${router.kind} to hold ${prefix} as expected`, () => {
    const r = routesFor(router, prefix);
    return check(r) ? r : undefined;
  }, timeoutMs, 50).catch((err: Error) => {
    throw new Error(`${err.message}; it holds ${JSON.stringify(routesFor(router, prefix))}`);
  });
}

const gone = (router: RouterDaemon, prefix: string): Promise<SeenRoute[]> => routeSeen(router, prefix, (r) => r.length === 0);

describe('speaker/bgp sessions against FRR, BIRD and GoBGP', function () {
  let dir = '';

  before(function () {
    if (notRunnable) this.skip();
    this.timeout(30_000);
    lab.createTopology();
    dir = lab.tempDir('runners');
  });

  after(async function () {
    this.timeout(30_000);
    await lab.killAll();
    if (notRunnable) return;
    lab.deleteNamespaces();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const daemons: [RouterDaemon['kind'], () => Promise<RouterDaemon>][] = [
    ['frr', lab.startFrr],
    ['bird', lab.startBird],
    ['gobgp', lab.startGobgp],
  ];

  for (const [kind, startRouter] of daemons) {
    describe(kind, function () {
      let router: RouterDaemon | undefined;
      let n1: Runner | undefined;
      let n2: Runner | undefined;
      const r = (): RouterDaemon => router!;

      before(async function () {
        this.timeout(40_000);
        router = await startRouter();
        n1 = await lab.Runner.start(NS.n1, dir);
        n2 = await lab.Runner.start(NS.n2, dir);
        n2.listen();
      });

      after(async function () {
        this.timeout(30_000);
        await n1?.exit();
        await n2?.exit();
        await router?.stop();
      });

      it('does not establish with a wrong TCP-MD5 key', async function () {
        this.timeout(20_000);
        n1!.start('wrong-key', n1v4({ password: 'not-the-key' }));
        await lab.sleep(5_000);
        const seen = n1!.states('wrong-key');
        assert.ok(seen.length > 0, 'the session ran');
        assert.ok(!seen.some((s) => s === 'OpenSent' || s === 'OpenConfirm' || s === 'Established'), `states: ${seen.join(' ')}`);
        assert.match(n1!.status('wrong-key')?.lastError ?? '', /no answer within 2s/);
        await n1!.stop('wrong-key');
      });

      it('eBGP with 4-octet ASNs and TCP-MD5: IPv4 /32 and IPv6 /128 (MP over IPv4) with communities, then withdrawn', async function () {
        this.timeout(30_000);
        const ads: Advertisement[] = [
          advertisement('198.51.100.10/32', { communities: [community('64500:100'), community('64500:200')], largeCommunities: [[NODE_ASN, 1, 2]] }),
          advertisement('2001:db8:ff::10/128', { communities: [community('64500:300')], largeCommunities: [[NODE_ASN, 3, 4]] }),
          // eBGP: localPref must not be sent.
          advertisement('198.51.100.11/32', { localPref: 300 }),
        ];
        n1!.start('ebgp', n1v4());
        n1!.wanted('ebgp', ads);
        const status = await n1!.waitSynced('ebgp', 3);
        assert.deepEqual(status.negotiated?.families, [4, 6]);
        assert.equal(status.negotiated?.fourOctetAS, true);
        assert.equal(status.negotiated?.peerASN, ROUTER_ASN);

        const [v4] = await routeSeen(r(), '198.51.100.10/32');
        assert.deepEqual(v4?.nextHops, [N1.v4]);
        assert.deepEqual(v4?.asPath, [NODE_ASN]);
        assert.deepEqual(v4?.communities.sort(), ['64500:100', '64500:200']);
        assert.deepEqual(v4?.largeCommunities, [`${NODE_ASN}:1:2`]);
        const [v6] = await routeSeen(r(), '2001:db8:ff::10/128');
        assert.deepEqual(v6?.nextHops, [N1.v6], 'IPv6 next hop: the global address on the interface of the IPv4 session');
        assert.deepEqual(v6?.communities, ['64500:300']);
        assert.deepEqual(v6?.largeCommunities, [`${NODE_ASN}:3:4`]);
        const [noLp] = await routeSeen(r(), '198.51.100.11/32');
        // FRR and BIRD show their own default for eBGP routes; GoBGP shows what was received.
        assert.ok(noLp?.localPref === undefined || noLp.localPref === 100, `localPref ${noLp?.localPref}`);

        // Withdraw one, change another's communities.
        n1!.wanted('ebgp', [ads[0]!, { ...ads[1]!, communities: [community('64500:301')] }]);
        await gone(r(), '198.51.100.11/32');
        await routeSeen(r(), '2001:db8:ff::10/128', (x) => x[0]?.communities.join() === '64500:301');
        assert.equal(routesFor(r(), '198.51.100.10/32').length, 1);

        n1!.wanted('ebgp', []);
        await gone(r(), '198.51.100.10/32');
        await gone(r(), '2001:db8:ff::10/128');
        await n1!.stop('ebgp');
      });

      it('over an IPv6 session: IPv6 with its own next hop, IPv4 with the interface IPv4 address', async function () {
        this.timeout(30_000);
        n1!.start('v6', sessionConfig({ name: 'router-v6', peerAddress: ROUTER.a6, sourceAddress: N1.v6, routerID: N1.v4, password: PASSWORD }));
        n1!.wanted('v6', [advertisement('2001:db8:ff::11/128'), advertisement('198.51.100.12/32')]);
        await n1!.waitSynced('v6', 2);
        const [v6] = await routeSeen(r(), '2001:db8:ff::11/128');
        assert.deepEqual(v6?.nextHops, [N1.v6]);
        const [v4] = await routeSeen(r(), '198.51.100.12/32');
        assert.deepEqual(v4?.nextHops, [N1.v4]);
        await n1!.stop('v6');
        await gone(r(), '2001:db8:ff::11/128');
      });

      it('iBGP: LOCAL_PREF as set (100 otherwise) and an empty AS_PATH', async function () {
        this.timeout(30_000);
        n2!.start('ibgp', sessionConfig({ name: 'router-ibgp', myASN: ROUTER_ASN, peerAddress: ROUTER.b4, sourceAddress: N2.ibgp }));
        n2!.wanted('ibgp', [advertisement('198.51.100.13/32', { localPref: 250, communities: [community('64500:13')] }), advertisement('198.51.100.14/32')]);
        const s = await n2!.waitSynced('ibgp', 2);
        assert.equal(s.negotiated?.peerASN, ROUTER_ASN);
        const [set] = await routeSeen(r(), '198.51.100.13/32');
        assert.equal(set?.localPref, 250);
        assert.deepEqual(set?.asPath, []);
        assert.deepEqual(set?.nextHops, [N2.ibgp]);
        assert.deepEqual(set?.communities, ['64500:13']);
        const [unset] = await routeSeen(r(), '198.51.100.14/32');
        assert.equal(unset?.localPref, 100);
        await n2!.stop('ibgp');
      });

      it('passive: the router connects to herald’s listener, with TCP-MD5', async function () {
        this.timeout(30_000);
        n2!.start('passive', sessionConfig({ name: 'router-passive', peerAddress: ROUTER.b4, sourceAddress: N2.passive, password: PASSIVE_PASSWORD, passive: true }), true);
        n2!.wanted('passive', [advertisement('198.51.100.15/32')]);
        await n2!.waitSynced('passive', 1, 20_000);
        const [route] = await routeSeen(r(), '198.51.100.15/32');
        assert.deepEqual(route?.nextHops, [N2.passive]);
        await n2!.stop('passive');
      });

      it('shutdown: Cease / Administrative Shutdown with the message reaches the router', async function () {
        this.timeout(30_000);
        n1!.start('bye', n1v4());
        n1!.wanted('bye', [advertisement('198.51.100.16/32')]);
        await n1!.waitSynced('bye', 1);
        await routeSeen(r(), '198.51.100.16/32');
        await n1!.stop('bye', 'shutdown', 'hlt maintenance');
        await gone(r(), '198.51.100.16/32');
        const said = kind === 'frr' ? (r() as FrrRouter).vtysh(`show bgp neighbor ${N1.v4} json`) : kind === 'bird' ? (r() as lab.BirdRouter).birdc('show', 'protocols', 'all', 'n1v4') : (r() as lab.GobgpRouter).gobgp('neighbor', N1.v4);
        if (kind !== 'gobgp') assert.match(said, /hlt maintenance/);
      });
    });
  }

  describe('frr: kernel routes, ECMP, graceful restart', function () {
    let router: FrrRouter | undefined;
    let n1: Runner | undefined;
    let n2: Runner | undefined;

    before(async function () {
      this.timeout(40_000);
      router = await lab.startFrr();
      n1 = await lab.Runner.start(NS.n1, dir);
      n2 = await lab.Runner.start(NS.n2, dir);
    });

    after(async function () {
      this.timeout(30_000);
      await n1?.exit();
      await n2?.exit();
      await router?.stop();
    });

    const kernelRoute = (prefix: string): string => sh('ip', ['-n', NS.router, ...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix]);

    it('installs ECMP routes in the router’s kernel when two nodes announce one prefix', async function () {
      this.timeout(30_000);
      const ads = [advertisement('198.51.100.20/32'), advertisement('2001:db8:ff::20/128')];
      n1!.start('ecmp', n1v4());
      n2!.start('ecmp', sessionConfig({ name: 'router-ecmp', peerAddress: ROUTER.b4, sourceAddress: N2.ecmp }));
      n1!.wanted('ecmp', ads);
      n2!.wanted('ecmp', ads);
      await n1!.waitSynced('ecmp', 2);
      await n2!.waitSynced('ecmp', 2);
      const v4 = await waitFor('an ECMP IPv4 route in the kernel', () => {
        const out = kernelRoute('198.51.100.20/32');
        return out.includes(`via ${N1.v4}`) && out.includes(`via ${N2.ecmp}`) ? out : undefined;
      });
      assert.match(v4, /proto bgp/);
      await waitFor('an ECMP IPv6 route in the kernel', () => {
        const out = kernelRoute('2001:db8:ff::20/128');
        return out.includes(`via ${N1.v6}`) && out.includes(`via ${N2.v6}`) ? out : undefined;
      });

      // One node withdraws: one path left.
      n2!.wanted('ecmp', []);
      await waitFor('one IPv4 path left', () => {
        const out = kernelRoute('198.51.100.20/32');
        return out.includes(`via ${N1.v4}`) && !out.includes(N2.ecmp) ? out : undefined;
      });
      await n1!.stop('ecmp');
      await n2!.stop('ecmp');
      await waitFor('the route gone from the kernel', () => (kernelRoute('198.51.100.20/32').trim() === '' ? true : undefined));
    });

    it('graceful restart: routes stay (stale) through a speaker restart, End-of-RIB flushes what was not re-sent', async function () {
      this.timeout(40_000);
      n1!.start('gr', n1v4());
      n1!.wanted('gr', [advertisement('198.51.100.30/32'), advertisement('198.51.100.31/32')]);
      const up = await n1!.waitSynced('gr', 2);
      assert.equal(up.negotiated?.gracefulRestart, true);
      await routeSeen(router!, '198.51.100.31/32');
      await waitFor('both routes in the kernel', () => (kernelRoute('198.51.100.30/32').includes(N1.v4) && kernelRoute('198.51.100.31/32').includes(N1.v4) ? true : undefined));

      // The speaker goes away (an upgrade): the session closes without NOTIFICATION, the process exits.
      await n1!.stop('gr', 'graceful-restart');
      await n1!.exit();
      const stale = await routeSeen(router!, '198.51.100.30/32', (x) => x[0]?.stale === true);
      assert.deepEqual(stale[0]?.nextHops, [N1.v4]);
      await routeSeen(router!, '198.51.100.31/32', (x) => x[0]?.stale === true);
      assert.match(kernelRoute('198.51.100.30/32'), new RegExp(`via ${N1.v4.replaceAll('.', '\\.')}`), 'traffic keeps its route while the speaker is away');
      const neighbor = JSON.parse(router!.vtysh(`show bgp neighbor ${N1.v4} json`)) as Record<string, { bgpState?: string }>;
      assert.notEqual(neighbor[N1.v4]?.bgpState, 'Established');

      // The next process: same peer, only one of the two routes still wanted.
      n1 = await lab.Runner.start(NS.n1, dir);
      n1.start('gr', n1v4());
      n1.wanted('gr', [advertisement('198.51.100.30/32')]);
      await n1.waitSynced('gr', 1);
      await routeSeen(router!, '198.51.100.30/32', (x) => x.length === 1 && x[0]?.stale === false);
      await gone(router!, '198.51.100.31/32');
      const info = JSON.parse(router!.vtysh(`show bgp neighbor ${N1.v4} json`)) as Record<string, { gracefulRestartInfo?: { rBit?: boolean } }>;
      assert.equal(info[N1.v4]?.gracefulRestartInfo?.rBit, true, 'the restarted speaker set the Restart State bit');
      assert.match(kernelRoute('198.51.100.30/32'), /proto bgp/);
      await waitFor('the flushed route gone from the kernel', () => (kernelRoute('198.51.100.31/32').trim() === '' ? true : undefined));
      await n1.stop('gr');
    });
  });
});
