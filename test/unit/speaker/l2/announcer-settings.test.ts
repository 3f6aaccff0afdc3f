import assert from 'node:assert/strict';
import { helpText, parseClientFlags, type FlagSpec } from '../../../../shared/flags.js';
import { DEFAULT_TAKEOVER_MS } from '../../../../speaker/l2/announce.js';
import { DEFAULT_EXCLUDED_INTERFACES } from '../../../../speaker/l2/interfaces.js';
import { DEFAULT_L2_SETTINGS, L2_FLAGS, l2SettingsFromFlags } from '../../../../speaker/l2/options.js';

const SPEC: FlagSpec = { command: 'speaker', summary: 'test', defaultMetricsAddr: ':7473', extra: L2_FLAGS };

/** Flags and environment through shared/flags.ts, as `herald speaker` parses them. */
function settings(args: string[], env: Record<string, string> = {}) {
  const parsed = parseClientFlags(args, env, SPEC);
  assert.equal(parsed.kind, 'ok', parsed.kind === 'error' ? parsed.message : '');
  return l2SettingsFromFlags(parsed.kind === 'ok' ? parsed.extra : {});
}

describe('speaker/l2/options: the layer 2 flags of herald speaker', () => {
  it('defaults: port 7946, the default exclusions, the takeover burst, no refresh, a 5 s interface poll, a 10 s restart hold', () => {
    const r = settings([]);
    assert.ok(r.ok);
    assert.deepEqual(r.settings, DEFAULT_L2_SETTINGS);
    assert.equal(r.settings.membershipPort, 7946);
    assert.deepEqual(r.settings.announce, { takeoverMs: DEFAULT_TAKEOVER_MS, refreshMs: 0 });
    assert.equal(r.settings.interfacePollMs, 5000);
    assert.equal(r.settings.restartHoldMs, 10_000);
  });

  it('reads every flag', () => {
    const r = settings([
      '--memberlist-port=17946',
      '--l2-exclude-interfaces=eth9, br-*',
      '--l2-takeover-ms=0,50,1000',
      '--l2-refresh-seconds=60',
      '--l2-interface-poll-ms=1000',
      '--l2-restart-hold-ms=0',
    ]);
    assert.ok(r.ok);
    assert.equal(r.settings.membershipPort, 17946);
    assert.deepEqual(r.settings.excludeInterfaces, ['eth9', 'br-*']);
    assert.deepEqual(r.settings.announce, { takeoverMs: [0, 50, 1000], refreshMs: 60_000 });
    assert.equal(r.settings.interfacePollMs, 1000);
    assert.equal(r.settings.restartHoldMs, 0);
  });

  it('falls back to each flag\'s environment variable; the flag wins over it', () => {
    const env = {
      HERALD_MEMBERLIST_PORT: '17946',
      HERALD_L2_EXCLUDE_INTERFACES: '+ens9',
      HERALD_L2_TAKEOVER_MS: '0,100',
      HERALD_L2_REFRESH_SECONDS: '30',
      HERALD_L2_INTERFACE_POLL_MS: '2000',
      HERALD_L2_RESTART_HOLD_MS: '3000',
    };
    const r = settings([], env);
    assert.ok(r.ok);
    assert.equal(r.settings.membershipPort, 17946);
    assert.deepEqual(r.settings.excludeInterfaces, [...DEFAULT_EXCLUDED_INTERFACES, 'ens9']);
    assert.deepEqual(r.settings.announce, { takeoverMs: [0, 100], refreshMs: 30_000 });
    assert.equal(r.settings.interfacePollMs, 2000);
    assert.equal(r.settings.restartHoldMs, 3000);
    const flag = settings(['--memberlist-port', '7000', '--l2-restart-hold-ms', '0'], env);
    assert.ok(flag.ok);
    assert.equal(flag.settings.membershipPort, 7000);
    assert.equal(flag.settings.restartHoldMs, 0);
  });

  it('a leading + adds to the default exclusions; `none` or an empty flag excludes nothing', () => {
    const none = settings(['--l2-exclude-interfaces', 'none']);
    assert.ok(none.ok);
    assert.deepEqual(none.settings.excludeInterfaces, []);
    const empty = settings(['--l2-exclude-interfaces=']);
    assert.ok(empty.ok);
    assert.deepEqual(empty.settings.excludeInterfaces, []);
  });

  it('names every bad value at once, with its flag and variable', () => {
    const r = settings([
      '--memberlist-port=70000',
      '--l2-exclude-interfaces=eth0,bad name',
      '--l2-takeover-ms=0,x',
      '--l2-refresh-seconds=-1',
      '--l2-interface-poll-ms=5',
      '--l2-restart-hold-ms=70000',
    ]);
    assert.ok(!r.ok);
    assert.equal(r.errors.length, 6, r.errors.join('\n'));
    assert.match(
      r.errors.join('\n'),
      /--memberlist-port \(or HERALD_MEMBERLIST_PORT\).*"70000".*--l2-exclude-interfaces.*"bad name".*--l2-takeover-ms.*--l2-refresh-seconds.*--l2-interface-poll-ms.*--l2-restart-hold-ms \(or HERALD_L2_RESTART_HOLD_MS\): milliseconds from 0 to 65535/s,
    );
    const order = settings(['--l2-takeover-ms', '100,0']);
    assert.ok(!order.ok && /ascend/.test(order.errors[0] ?? ''));
    const fromEnv = settings([], { HERALD_L2_INTERFACE_POLL_MS: 'soon' });
    assert.ok(!fromEnv.ok && /HERALD_L2_INTERFACE_POLL_MS.*"soon"/.test(fromEnv.errors[0] ?? ''));
  });

  it('--help lists each flag with its variable and its default', () => {
    const text = helpText(SPEC);
    for (const [name, f] of Object.entries(L2_FLAGS)) {
      const line = text.split('\n').find((l) => l.includes(`--${name} `)) ?? '';
      assert.ok(line.includes(`[env ${f.env}]`), `${name}: ${line}`);
      assert.match(line, /\(default [^)]+\)/, name);
    }
  });
});
