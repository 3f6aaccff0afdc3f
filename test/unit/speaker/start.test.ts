import { strict as assert } from 'node:assert';
import { FakeClock } from '../../../shared/k8s/clock.js';
import type { InformerHandler, K8sObject } from '../../../shared/k8s/informer.js';
import { silentLogger } from '../../../shared/log.js';
import { createMetrics } from '../../../shared/metrics.js';
import type { Announcer } from '../../../speaker/announcer.js';
import type { SpeakerSnapshot } from '../../../speaker/snapshot.js';
import { startSpeaker, type SpeakerDeps } from '../../../speaker/start.js';

/** An informer that holds a fixed list and lets the test fire events. */
function fakeInformer(items: K8sObject[] = []) {
  const handlers = new Set<InformerHandler<K8sObject>>();
  const inf = {
    items,
    list: () => items,
    subscribe: (h: InformerHandler<K8sObject>) => {
      handlers.add(h);
      return () => handlers.delete(h);
    },
    fire: () => {
      for (const h of handlers) h({ type: 'update', resource: {} as never, key: 'x', obj: {} });
    },
    handlers,
  };
  return inf;
}

function deps(clock: FakeClock, informers: Record<string, ReturnType<typeof fakeInformer>>): SpeakerDeps {
  return {
    log: silentLogger(),
    clock,
    nodeName: 'n1',
    namespace: 'herald-system',
    lbClass: undefined,
    informers: informers as unknown as SpeakerDeps['informers'],
    status: {} as never,
    events: {} as never,
    metrics: createMetrics({ defaultMetrics: false }),
    client: {} as never,
  };
}

const names = ['services', 'endpointSlices', 'nodes', 'pools', 'l2Advertisements', 'bgpAdvertisements', 'bgpPeers', 'communities', 'bfdProfiles', 'secrets'];

describe('speaker core', () => {
  it('hands one snapshot to every announcer at start and one per burst of events', async () => {
    const clock = new FakeClock();
    const infs = Object.fromEntries(names.map((n) => [n, fakeInformer()]));
    infs.pools!.items.push({
      apiVersion: 'herald.dev/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'lan', namespace: 'herald-system', creationTimestamp: '2025-01-01T00:00:00Z' },
      spec: { addresses: ['192.0.2.200-192.0.2.250'] },
    } as K8sObject);
    infs.services!.items.push({
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.200' }] } },
    } as K8sObject);
    const seen: { protocol: string; snap: SpeakerSnapshot }[] = [];
    const mk = (protocol: 'layer2' | 'bgp', fail = false) => async (): Promise<Announcer> => ({
      protocol,
      update: (snap) => {
        seen.push({ protocol, snap });
        if (fail) throw new Error('boom');
      },
      stop: async () => {},
    });
    const sp = await startSpeaker(deps(clock, infs), { announcers: [mk('layer2', true), mk('bgp')], coalesceMs: 5, monotonicMs: () => 0 });
    assert.deepEqual(seen.map((s) => s.protocol), ['layer2', 'bgp'], 'a failing announcer does not stop the next one');
    assert.equal(seen[1]!.snap.config.pools[0]?.name, 'lan');
    assert.equal(seen[1]!.snap.services[0]?.key, 'default/web');

    for (let i = 0; i < 10; i++) infs.services!.fire();
    assert.equal(seen.length, 2, 'nothing before the coalescing delay');
    await clock.advance(5);
    assert.equal(seen.length, 4, 'one rebuild for the whole burst');
    assert.equal(seen[3]!.snap.config, seen[1]!.snap.config, 'a Service change reuses the config model');

    infs.pools!.fire();
    await clock.advance(5);
    assert.equal(seen.length, 6);
    assert.notEqual(seen[5]!.snap.config, seen[3]!.snap.config, 'a pool change rebuilds the config model');

    await sp.stop();
    infs.services!.fire();
    await clock.advance(50);
    assert.equal(seen.length, 6, 'no rebuild after stop');
    assert.equal([...Object.values(infs)].every((i) => i.handlers.size === 0), true, 'unsubscribed');
  });

  it('waits at least twice as long as the last rebuild took before the next one', async () => {
    const clock = new FakeClock();
    const infs = Object.fromEntries(names.map((n) => [n, fakeInformer()]));
    let rebuilds = 0;
    // Each rebuild reads the time before and after: every rebuild takes 40 ms.
    let reading = 0;
    const monotonicMs = (): number => (reading += 40);
    const announcer = async (): Promise<Announcer> => ({ protocol: 'bgp', update: () => void rebuilds++, stop: async () => {} });
    const sp = await startSpeaker(deps(clock, infs), { announcers: [announcer], coalesceMs: 5, monotonicMs });
    assert.equal(rebuilds, 1);
    infs.services!.fire();
    await clock.advance(79);
    assert.equal(rebuilds, 1, 'not before twice the last cost');
    await clock.advance(1);
    assert.equal(rebuilds, 2);
    await sp.stop();
  });
});
