import assert from 'node:assert/strict';
import { DEFAULT_TAKEOVER_MS } from '../../../../speaker/l2/announce.js';
import { DEFAULT_EXCLUDED_INTERFACES } from '../../../../speaker/l2/interfaces.js';
import { DEFAULT_L2_SETTINGS, l2SettingsFromEnv } from '../../../../speaker/l2/options.js';

describe('speaker/l2/options', () => {
  it('defaults: port 7946, the default exclusions, the takeover burst, no refresh, a 5 s interface poll', () => {
    const r = l2SettingsFromEnv({});
    assert.ok(r.ok);
    assert.deepEqual(r.settings, DEFAULT_L2_SETTINGS);
    assert.equal(r.settings.membershipPort, 7946);
    assert.deepEqual(r.settings.announce, { takeoverMs: DEFAULT_TAKEOVER_MS, refreshMs: 0 });
  });

  it('reads every variable', () => {
    const r = l2SettingsFromEnv({
      HERALD_MEMBERLIST_PORT: '17946',
      HERALD_L2_EXCLUDE_INTERFACES: 'eth9, br-*',
      HERALD_L2_TAKEOVER_MS: '0,50,1000',
      HERALD_L2_REFRESH_SECONDS: '60',
      HERALD_L2_INTERFACE_POLL_MS: '1000',
    });
    assert.ok(r.ok);
    assert.equal(r.settings.membershipPort, 17946);
    assert.deepEqual(r.settings.excludeInterfaces, ['eth9', 'br-*']);
    assert.deepEqual(r.settings.announce, { takeoverMs: [0, 50, 1000], refreshMs: 60_000 });
    assert.equal(r.settings.interfacePollMs, 1000);
  });

  it('a leading + adds to the default exclusions; an empty value excludes nothing', () => {
    const add = l2SettingsFromEnv({ HERALD_L2_EXCLUDE_INTERFACES: '+ens9' });
    assert.ok(add.ok);
    assert.deepEqual(add.settings.excludeInterfaces, [...DEFAULT_EXCLUDED_INTERFACES, 'ens9']);
    const none = l2SettingsFromEnv({ HERALD_L2_EXCLUDE_INTERFACES: '' });
    assert.ok(none.ok);
    assert.deepEqual(none.settings.excludeInterfaces, []);
  });

  it('names every bad variable at once', () => {
    const r = l2SettingsFromEnv({
      HERALD_MEMBERLIST_PORT: '70000',
      HERALD_L2_EXCLUDE_INTERFACES: 'eth0,bad name',
      HERALD_L2_TAKEOVER_MS: '0,x',
      HERALD_L2_REFRESH_SECONDS: '-1',
      HERALD_L2_INTERFACE_POLL_MS: '5',
    });
    assert.ok(!r.ok);
    assert.equal(r.errors.length, 5, r.errors.join('\n'));
    assert.match(r.errors.join('\n'), /HERALD_MEMBERLIST_PORT.*HERALD_L2_EXCLUDE_INTERFACES.*HERALD_L2_TAKEOVER_MS.*HERALD_L2_REFRESH_SECONDS.*HERALD_L2_INTERFACE_POLL_MS/s);
    const order = l2SettingsFromEnv({ HERALD_L2_TAKEOVER_MS: '100,0' });
    assert.ok(!order.ok && /ascend/.test(order.errors[0] ?? ''));
  });
});
