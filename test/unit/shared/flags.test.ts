import { strict as assert } from 'node:assert';
import { parseClientFlags, type FlagSpec } from '../../../shared/flags.js';
import { CONTROLLER_FLAGS } from '../../../controller/main.js';
import { SPEAKER_FLAGS } from '../../../speaker/main.js';

const SPEC: FlagSpec = {
  command: 'thing',
  summary: 'does a thing',
  defaultMetricsAddr: ':7472',
  extra: { 'node-name': { type: 'string', help: 'node', env: 'NODE_NAME', required: true } },
};

function ok(args: string[], env: Record<string, string> = { NODE_NAME: 'n1' }) {
  const r = parseClientFlags(args, env, SPEC);
  assert.equal(r.kind, 'ok', r.kind === 'error' ? r.message : '');
  return r as Extract<typeof r, { kind: 'ok' }>;
}

function err(args: string[], env: Record<string, string> = { NODE_NAME: 'n1' }): string {
  const r = parseClientFlags(args, env, SPEC);
  assert.equal(r.kind, 'error');
  return (r as { message: string }).message;
}

describe('parseClientFlags', () => {
  it('applies the defaults of DESIGN.md', () => {
    const { flags } = ok([]);
    assert.deepEqual(flags, {
      kubeconfig: undefined,
      namespace: 'herald-system',
      lbClass: undefined,
      metricsAddr: { host: '', port: 7472 },
      healthAddr: undefined,
      logLevel: 'info',
    });
  });

  it('reads every common flag, in both --flag value and --flag=value forms', () => {
    const { flags } = ok([
      '--kubeconfig', '/tmp/kc',
      '--namespace=lb',
      '--lb-class', 'herald.dev/lb',
      '--metrics-addr', '127.0.0.1:0',
      '--health-addr=[::1]:8081',
      '--log-level', 'debug',
    ]);
    assert.deepEqual(flags, {
      kubeconfig: '/tmp/kc',
      namespace: 'lb',
      lbClass: 'herald.dev/lb',
      metricsAddr: { host: '127.0.0.1', port: 0 },
      healthAddr: { host: '::1', port: 8081 },
      logLevel: 'debug',
    });
  });

  it('0 turns an address off', () => {
    const { flags } = ok(['--metrics-addr', '0', '--health-addr', '0']);
    assert.equal(flags.metricsAddr, null);
    assert.equal(flags.healthAddr, null);
  });

  it('takes a flag from its environment variable when absent, the flag winning when both are set', () => {
    assert.equal(ok([], { NODE_NAME: 'from-env' }).extra['node-name'], 'from-env');
    assert.equal(ok(['--node-name', 'from-flag'], { NODE_NAME: 'from-env' }).extra['node-name'], 'from-flag');
  });

  it('names what is wrong', () => {
    assert.match(err(['--bogus']), /Unknown option '--bogus'/);
    assert.match(err(['--bogus']), /--help/);
    assert.match(err(['stray']), /Unexpected argument 'stray'/);
    assert.match(err(['--log-level', 'loud']), /--log-level: "loud" is not one of/);
    assert.match(err(['--metrics-addr', 'localhost']), /--metrics-addr: "localhost" is not host:port/);
    assert.match(err(['--metrics-addr', ':70000']), /above 65535/);
    assert.match(err(['--namespace', 'Bad_NS']), /--namespace: "Bad_NS" is not a valid namespace name/);
    assert.match(err([], {}), /--node-name is required \(or set NODE_NAME\)/);
    assert.match(err(['--kubeconfig']), /argument missing/);
    // Every problem at once, not one per run.
    const both = err(['--log-level', 'loud', '--namespace', 'X'], {});
    assert.match(both, /log-level/);
    assert.match(both, /namespace/);
    assert.match(both, /node-name/);
  });

  it('--help lists every flag with its default and environment variable', () => {
    const r = parseClientFlags(['--help'], {}, SPEC);
    assert.equal(r.kind, 'help');
    const text = (r as { text: string }).text;
    for (const f of ['--kubeconfig FILE', '--namespace NS', '--lb-class CLASS', '--metrics-addr ADDR', '--health-addr ADDR', '--log-level LEVEL', '--node-name', '-h, --help']) {
      assert.ok(text.includes(f), `help lacks ${f}`);
    }
    assert.match(text, /default :7472/);
    assert.match(text, /\[env NODE_NAME\]/);
    assert.equal(parseClientFlags(['-h'], {}, SPEC).kind, 'help', '-h even when a required flag is missing');
  });

  it('the controller and speaker specs: ports 7472 and 7473, speaker needs a node', () => {
    const c = parseClientFlags([], {}, CONTROLLER_FLAGS);
    assert.equal(c.kind, 'ok');
    assert.deepEqual(c.kind === 'ok' && c.flags.metricsAddr, { host: '', port: 7472 });
    assert.equal(c.kind === 'ok' && c.extra['lease-name'], 'herald-controller');
    const s = parseClientFlags([], {}, SPEAKER_FLAGS);
    assert.equal(s.kind, 'error');
    const s2 = parseClientFlags([], { NODE_NAME: 'node1' }, SPEAKER_FLAGS);
    assert.deepEqual(s2.kind === 'ok' && s2.flags.metricsAddr, { host: '', port: 7473 });
  });
});
