import { strict as assert } from 'node:assert';
import type { BGPSessionStateStatus, ServiceBGPStatusStatus } from '../../../../shared/api/types.js';
import { createMetrics } from '../../../../shared/metrics.js';
import { ANNOUNCED_METRIC } from '../../../../speaker/announcer.js';
import { serviceStatusName, sessionStateName } from '../../../../speaker/bgp/status.js';
import { harness } from './announcer-fakes.js';
import { bgpAdv, peer, pool, secret, snapshotOf, type SvcSpec } from './planner-helpers.js';

const POOLS = [pool('bgp', { addresses: ['203.0.113.0/24', '2001:db8:ff::/120'] })];
const R1 = peer('r1');
const R2 = peer('r2', { peerAddress: '192.0.2.2', enableGracefulRestart: true });
const ALL = bgpAdv('all');
const WEB: SvcSpec = { name: 'web', ips: ['203.0.113.5'] };

function snap(o: { peers?: ReturnType<typeof peer>[]; ads?: ReturnType<typeof bgpAdv>[]; services?: SvcSpec[]; secrets?: ReturnType<typeof secret>[] } = {}) {
  return snapshotOf({
    config: { pools: POOLS, peers: o.peers ?? [R1, R2], bgpAdvertisements: o.ads ?? [ALL], secrets: o.secrets ?? [] },
    services: o.services ?? [WEB],
  });
}

describe('BGP announcer', () => {
  describe('sessions', () => {
    it('starts one session per peer of this node and tells it the wanted prefixes', () => {
      const h = harness();
      h.announcer.update(snap());
      assert.deepEqual(h.made.map((s) => s.config.name), ['r1', 'r2']);
      for (const s of h.made) {
        assert.deepEqual(s.calls, ['setWanted:1', 'start']);
        assert.deepEqual(s.wanted.map((a) => `${a.prefix}/${a.length}`), ['203.0.113.5/32']);
      }
    });

    it('an unchanged snapshot touches no session', () => {
      const h = harness();
      h.announcer.update(snap());
      h.announcer.update(snap());
      for (const s of h.made) assert.deepEqual(s.calls, ['setWanted:1', 'start']);
    });

    it('adding a peer starts its session only; removing one stops it with a NOTIFICATION and leaves the others alone', () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      const r1 = h.live('r1');
      h.announcer.update(snap({ peers: [R1, R2] }));
      assert.equal(h.made.length, 2);
      assert.deepEqual(r1.calls, ['setWanted:1', 'start']);
      const r2 = h.live('r2');
      h.announcer.update(snap({ peers: [R2] }));
      assert.deepEqual(r1.calls, ['setWanted:1', 'start', 'stop:shutdown']);
      assert.match(r1.stoppedWith?.message ?? '', /removed/);
      assert.deepEqual(r2.calls, ['setWanted:1', 'start']);
    });

    it('a password Secret change reconfigures that session only', () => {
      const h = harness();
      const withSecret = peer('md5', { peerAddress: '192.0.2.3', passwordSecret: { name: 'md5-pw' } });
      h.announcer.update(snap({ peers: [R1, withSecret], secrets: [secret('md5-pw', { password: 'one' })] }));
      h.announcer.update(snap({ peers: [R1, withSecret], secrets: [secret('md5-pw', { password: 'two' })] }));
      assert.deepEqual(h.live('md5').calls, ['setWanted:1', 'start', 'reconfigure']);
      assert.equal(h.live('md5').config.password, 'two');
      assert.deepEqual(h.live('r1').calls, ['setWanted:1', 'start']);
      assert.equal(h.made.length, 2);
    });

    it('a change of advertisements reaches only the sessions whose prefixes change', () => {
      const h = harness();
      h.announcer.update(snap({ ads: [bgpAdv('to-r2', { peers: ['r2'] })] }));
      h.announcer.update(snap({ ads: [bgpAdv('to-r2', { peers: ['r2'] })], services: [WEB, { name: 'api', ips: ['203.0.113.6'] }] }));
      assert.deepEqual(h.live('r1').calls, ['setWanted:0', 'start']);
      assert.deepEqual(h.live('r2').calls, ['setWanted:1', 'start', 'setWanted:2']);
    });

    it('withdraws when the last ready endpoint goes, keeping the session', () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      h.announcer.update(snap({ peers: [R1], services: [{ ...WEB, ready: [] }] }));
      assert.deepEqual(h.live('r1').calls, ['setWanted:1', 'start', 'setWanted:0']);
    });

    it('stop: graceful restart where the peer has it, administrative shutdown elsewhere', async () => {
      const h = harness();
      h.announcer.update(snap());
      await h.announcer.stop();
      assert.deepEqual(h.made.map((s) => s.stoppedWith?.mode), ['shutdown', 'graceful-restart']);
      h.announcer.update(snap({ peers: [] }));
      assert.equal(h.made.length, 2, 'no work after stop');
    });
  });

  describe('BGPSessionState', () => {
    it('is written on start and on every state change at once', async () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      await h.settle();
      const name = sessionStateName('n1', 'r1');
      assert.equal(name, 'n1-r1');
      const st = () => h.writer.get('BGPSessionState', name)?.status as BGPSessionStateStatus;
      assert.deepEqual(st(), { node: 'n1', peer: 'r1', peerAddress: '192.0.2.1', bgpStatus: 'Idle', bfdStatus: 'N/A', prefixesSent: 0 });
      assert.deepEqual(h.writer.get('BGPSessionState', name)?.metadata.labels, { 'herald.dev/node': 'n1', 'herald.dev/peer': 'r1' });
      h.live('r1').emit({ state: 'Connect' });
      h.live('r1').emit({ state: 'OpenSent' });
      h.live('r1').emit({ state: 'Established', establishedSince: new Date(Date.UTC(2025, 0, 1, 0, 0, 1, 500)), prefixesSent: 1 });
      await h.settle();
      assert.equal(st().bgpStatus, 'Established');
      assert.equal(st().establishedSince, '2025-01-01T00:00:01Z');
      assert.equal(st().prefixesSent, 1);
    });

    it('counter changes are written at most once a second, with the latest figures', async () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      h.live('r1').emit({ state: 'Established' });
      await h.settle();
      const writes = () => h.writer.log.filter((l) => l.startsWith('apply BGPSessionState')).length;
      const before = writes();
      for (let i = 1; i <= 50; i++) h.live('r1').emit({ prefixesSent: i, updatesSent: i });
      await h.settle();
      assert.equal(writes(), before, 'nothing within the interval');
      await h.clock.advance(1000);
      await h.settle();
      assert.equal(writes(), before + 1);
      assert.equal((h.writer.get('BGPSessionState', 'n1-r1')?.status as BGPSessionStateStatus).prefixesSent, 50);
    });

    it('carries the last error, cut to the schema\'s length', async () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      h.live('r1').emit({ state: 'Active', lastError: `received NOTIFICATION Cease: ${'x'.repeat(2000)}`, lastErrorTime: new Date(Date.UTC(2025, 0, 1)) });
      await h.settle();
      const st = h.writer.get('BGPSessionState', 'n1-r1')?.status as BGPSessionStateStatus;
      assert.equal(st.lastError?.length, 1024);
      assert.match(st.lastError ?? '', /^received NOTIFICATION Cease/);
      assert.equal(st.lastErrorTime, '2025-01-01T00:00:00Z');
    });

    it('is deleted with its peer, and on stop unless the router keeps our routes', async () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1, R2, peer('r3', { peerAddress: '192.0.2.3' })] }));
      await h.settle();
      assert.equal(h.writer.ofKind('BGPSessionState').length, 3);
      h.announcer.update(snap({ peers: [R1, R2] }));
      await h.settle();
      assert.deepEqual(h.writer.ofKind('BGPSessionState').map((o) => o.metadata.name).sort(), ['n1-r1', 'n1-r2']);
      await h.announcer.stop();
      assert.deepEqual(h.writer.ofKind('BGPSessionState').map((o) => o.metadata.name), ['n1-r2']);
    });

    it('retries a failed write', async () => {
      const h = harness();
      h.writer.failNext = 1;
      h.announcer.update(snap({ peers: [R1] }));
      await h.clock.advance(0);
      assert.equal(h.writer.ofKind('BGPSessionState').length, 0);
      await h.clock.advance(500);
      await h.settle();
      assert.equal(h.writer.ofKind('BGPSessionState').length, 1);
    });
  });

  describe('ServiceBGPStatus and events', () => {
    it('is created with the peers, updated when they change and deleted when the Service goes', async () => {
      const h = harness();
      h.announcer.update(snap({ ads: [bgpAdv('to-r1', { peers: ['r1'] })] }));
      await h.settle();
      const name = serviceStatusName('default', 'web', 'n1');
      assert.equal(name, 'default-web-n1');
      const st = () => h.writer.get('ServiceBGPStatus', name)?.status as ServiceBGPStatusStatus | undefined;
      assert.deepEqual(st(), { node: 'n1', serviceName: 'web', serviceNamespace: 'default', peers: ['r1'] });
      h.announcer.update(snap({ ads: [bgpAdv('to-r1', { peers: ['r1'] }), bgpAdv('to-r2', { peers: ['r2'] })] }));
      await h.settle();
      assert.deepEqual(st()?.peers, ['r1', 'r2']);
      h.announcer.update(snap({ services: [] }));
      await h.settle();
      assert.equal(st(), undefined);
    });

    it('nodeAssigned only when the node starts announcing a Service or its IPs change', async () => {
      const h = harness({ serviceRef: (namespace, name) => ({ apiVersion: 'v1', kind: 'Service', namespace, name, uid: `uid-${name}` }) });
      h.announcer.update(snap());
      h.announcer.update(snap());
      h.announcer.update(snap({ peers: [R1] }));
      assert.equal(h.events.events.length, 1);
      assert.deepEqual(h.events.events[0], {
        ref: { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: 'uid-web' },
        type: 'Normal',
        reason: 'nodeAssigned',
        message: 'announcing from node "n1" with protocol "bgp"',
      });
      h.announcer.update(snap({ peers: [R1], services: [{ ...WEB, ips: ['203.0.113.5', '2001:db8:ff::5'] }] }));
      assert.equal(h.events.events.length, 2);
      h.announcer.update(snap({ peers: [R1], services: [{ ...WEB, ready: [] }] }));
      h.announcer.update(snap({ peers: [R1] }));
      assert.equal(h.events.events.length, 3, 'announced again after a withdrawal');
    });

    it('on start: removes what an earlier process left and this one does not want, without repeating events', async () => {
      const earlier = harness();
      earlier.announcer.update(snap({ services: [WEB, { name: 'old', ips: ['203.0.113.9'] }], peers: [R1, peer('gone', { peerAddress: '192.0.2.8' })] }));
      await earlier.settle();
      const h = harness({
        existing: { sessionStates: earlier.writer.ofKind('BGPSessionState'), serviceStatuses: earlier.writer.ofKind('ServiceBGPStatus') },
      });
      for (const [k, v] of earlier.writer.objects) h.writer.objects.set(k, v);
      h.announcer.update(snap({ peers: [R1] }));
      await h.settle();
      assert.deepEqual(h.writer.ofKind('BGPSessionState').map((o) => o.metadata.name), ['n1-r1']);
      assert.deepEqual(h.writer.ofKind('ServiceBGPStatus').map((o) => o.metadata.name), ['default-web-n1']);
      assert.equal(h.events.events.length, 0, 'web was announced by the earlier process already');
    });

    it('on stop: kept while a router keeps our routes (graceful restart), deleted otherwise', async () => {
      const gr = harness();
      gr.announcer.update(snap());
      await gr.settle();
      await gr.announcer.stop();
      assert.equal(gr.writer.ofKind('ServiceBGPStatus').length, 1);
      const plain = harness();
      plain.announcer.update(snap({ peers: [R1] }));
      await plain.settle();
      await plain.announcer.stop();
      assert.equal(plain.writer.ofKind('ServiceBGPStatus').length, 0);
    });

    it('long names are cut to 63 characters and stay distinct', () => {
      const a = serviceStatusName('a-very-long-namespace-name-for-testing', 'and-an-equally-long-service-name', 'node-one');
      const b = serviceStatusName('a-very-long-namespace-name-for-testing', 'and-an-equally-long-service-name', 'node-two');
      assert.ok(a.length <= 63 && b.length <= 63);
      assert.notEqual(a, b);
      assert.match(a, /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/);
      assert.notEqual(sessionStateName('n1', 'Peer_One'), sessionStateName('n1', 'peer-one'));
    });
  });

  describe('metrics', () => {
    it('by peer: session up, prefixes announced and pending, UPDATEs sent; announced Services by IP', async () => {
      const h = harness();
      h.announcer.update(snap({ peers: [R1] }));
      h.live('r1').emit({ state: 'Established', prefixesSent: 1, pendingPrefixes: 2, updatesSent: 3 });
      h.live('r1').emit({ updatesSent: 5 });
      assert.deepEqual(await h.metric('herald_bgp_session_up'), [{ labels: { peer: 'r1' }, value: 1 }]);
      assert.deepEqual(await h.metric('herald_bgp_announced_prefixes_total'), [{ labels: { peer: 'r1' }, value: 1 }]);
      assert.deepEqual(await h.metric('herald_bgp_pending_prefixes_total'), [{ labels: { peer: 'r1' }, value: 2 }]);
      assert.deepEqual(await h.metric('herald_bgp_updates_total'), [{ labels: { peer: 'r1' }, value: 5 }]);
      assert.deepEqual(await h.metric('herald_speaker_announced'), [
        { labels: { service: 'default/web', protocol: 'bgp', node: 'n1', ip: '203.0.113.5' }, value: 1 },
      ]);
      const text = await h.metrics.registry.metrics();
      assert.match(text, /^herald_bgp_session_up\{peer="r1",node="n1"\} 1$/m);
      h.live('r1').emit({ state: 'Idle' });
      assert.equal((await h.metric('herald_bgp_session_up'))[0]?.value, 0);
      h.announcer.update(snap({ peers: [R1], services: [] }));
      assert.deepEqual(await h.metric('herald_speaker_announced'), []);
      h.announcer.update(snap({ peers: [] }));
      assert.deepEqual(await h.metric('herald_bgp_session_up'), []);
    });

    it('shares herald_speaker_announced with an announcer that registered it first, and leaves it when stopped', async () => {
      const metrics = createMetrics({ defaultMetrics: false, labels: { node: 'n1' } });
      metrics.sampledGauge(ANNOUNCED_METRIC).addSource(() => [[{ service: 'default/lan', protocol: 'layer2', node: 'n1', ip: '192.0.2.200' }, 1]]);
      const h = harness({ metrics });
      h.announcer.update(snap({ peers: [R1] }));
      const series = async () => (await h.metric('herald_speaker_announced')).map((v) => `${v.labels.protocol} ${v.labels.ip}`).sort();
      assert.deepEqual(await series(), ['bgp 203.0.113.5', 'layer2 192.0.2.200']);
      assert.match(await metrics.registry.metrics(), /^herald_speaker_announced\{service="default\/web",protocol="bgp",node="n1",ip="203\.0\.113\.5"\} 1$/m);
      await h.announcer.stop();
      assert.deepEqual(await series(), ['layer2 192.0.2.200']);
    });
  });
});
