// herald's alert rules (manifests/alerts/prometheus-rule.yaml): the shape every rule
// needs, metric names that herald exports (or is asked to), and, with promtool (Debian
// package `prometheus`), the rules evaluated against series made for each case: what
// fires, with which labels and value, and what must not fire.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { loadFile, MANIFESTS } from './validate.js';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}

const [loaded] = loadFile(join(MANIFESTS, 'alerts/prometheus-rule.yaml'));
assert.ok(loaded);
const groups = (loaded.doc.spec as { groups: Group[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const rule = (name: string): Rule => {
  const r = rules.find((x) => x.alert === name);
  assert.ok(r, `no alert ${name}`);
  return r;
};

/**
 * The series the rules read, with the labels herald puts on them. REFERENCE.md "Metrics"
 * names the allocator, BGP and speaker metrics; herald_controller_leader is exported by
 * controller/main.ts; herald_config_errors is the one these rules ask for (objects the
 * config model rejects, by kind).
 */
const METRICS: Record<string, string[]> = {
  herald_allocator_addresses_total: ['pool'],
  herald_allocator_addresses_in_use_total: ['pool'],
  herald_allocator_services_allocated_total: ['pool'],
  herald_bgp_session_up: ['peer', 'node'],
  herald_speaker_announced: ['service', 'protocol', 'node', 'ip'],
  herald_controller_leader: [],
  herald_config_errors: ['kind'],
};

describe('manifests: alert rules', function () {
  this.timeout(60_000);

  it('cover pool usage, pool exhaustion, BGP sessions, unannounced IPs and invalid config', () => {
    for (const name of ['HeraldPoolAlmostFull', 'HeraldPoolExhausted', 'HeraldBGPSessionDown', 'HeraldServiceNotAnnounced', 'HeraldConfigInvalid']) rule(name);
    assert.match(rule('HeraldPoolAlmostFull').expr, /> 0\.85\s*$/);
  });

  it('every rule has a duration, a severity, a summary and a description, and a unique name', () => {
    assert.equal(new Set(rules.map((r) => r.alert)).size, rules.length);
    for (const r of rules) {
      assert.match(r.for ?? '', /^\d+m$/, `${r.alert}: for`);
      assert.ok(['warning', 'critical'].includes(r.labels?.severity ?? ''), `${r.alert}: severity`);
      assert.ok(r.annotations?.summary && r.annotations.description, `${r.alert}: annotations`);
    }
  });

  it('read only herald metrics that exist or are asked for, grouped by labels they carry', () => {
    for (const r of rules) {
      const used = [...new Set(r.expr.match(/\bherald_[a-z_]+\b/g) ?? [])];
      assert.ok(used.length > 0, r.alert);
      for (const m of used) assert.ok(m in METRICS, `${r.alert}: unknown metric ${m}`);
      const carried = new Set(used.flatMap((m) => METRICS[m] ?? []));
      for (const by of r.expr.matchAll(/\bby \(([^)]*)\)/g)) {
        for (const label of (by[1] ?? '').split(',').map((s) => s.trim())) assert.ok(carried.has(label), `${r.alert}: by (${label})`);
      }
    }
  });

  describe('evaluated by promtool', function () {
    let dir = '';
    before(function () {
      if (spawnSync('promtool', ['--version']).status !== 0) {
        this.skip(); // promtool comes with Debian's `prometheus` package.
      }
      dir = mkdtempSync(join(tmpdir(), 'herald-alerts-'));
      writeFileSync(join(dir, 'rules.yaml'), yaml.dump({ groups }));
    });
    after(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const promtool = (args: string[]): { status: number | null; out: string } => {
      const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
      return { status: r.status, out: `${r.stdout}${r.stderr}` };
    };

    it('promtool check rules accepts every expression and template', () => {
      const r = promtool(['check', 'rules', 'rules.yaml']);
      assert.equal(r.status, 0, r.out);
      assert.match(r.out, new RegExp(`SUCCESS: ${rules.length} rules found`));
    });

    // Series for promtool: `metric{labels}` and a values string (`a+bxN`: N steps).
    type Series = [string, string];
    const controller = (pod: string, leader: 0 | 1, extra: Series[]): Series[] => [
      [`herald_controller_leader{instance="${pod}:7472"}`, `${leader}x30`],
      ...extra.map(([s, v]): Series => [s.replace('}', `, instance="${pod}:7472"}`), v]),
    ];
    interface Case {
      name: string;
      alert: string;
      series: Series[];
      /** Expected samples of the rule's expression at 20m: labels and value. */
      expect: { labels: string; value: number }[];
    }
    const cases: Case[] = [
      {
        name: 'a pool 45/51 used on the leader fires; the standby (0/0) and a 10/51 pool do not',
        alert: 'HeraldPoolAlmostFull',
        series: [
          ...controller('c1', 1, [
            ['herald_allocator_addresses_in_use_total{pool="lan"}', '45x30'],
            ['herald_allocator_addresses_total{pool="lan"}', '51x30'],
            ['herald_allocator_addresses_in_use_total{pool="routed"}', '10x30'],
            ['herald_allocator_addresses_total{pool="routed"}', '51x30'],
          ]),
          ...controller('c2', 0, [
            ['herald_allocator_addresses_in_use_total{pool="lan"}', '0x30'],
            ['herald_allocator_addresses_total{pool="lan"}', '0x30'],
          ]),
        ],
        expect: [{ labels: '{pool="lan"}', value: 45 / 51 }],
      },
      {
        name: 'a standby left with a former leader\'s stale gauges does not count',
        alert: 'HeraldPoolAlmostFull',
        series: [
          ...controller('c1', 1, [
            ['herald_allocator_addresses_in_use_total{pool="lan"}', '20x30'],
            ['herald_allocator_addresses_total{pool="lan"}', '51x30'],
          ]),
          ...controller('c2', 0, [
            ['herald_allocator_addresses_in_use_total{pool="lan"}', '50x30'],
            ['herald_allocator_addresses_total{pool="lan"}', '51x30'],
          ]),
        ],
        expect: [],
      },
      {
        name: 'a full pool fires; a pool with no addresses and a nearly full one do not',
        alert: 'HeraldPoolExhausted',
        series: controller('c1', 1, [
          ['herald_allocator_addresses_in_use_total{pool="lan"}', '51x30'],
          ['herald_allocator_addresses_total{pool="lan"}', '51x30'],
          ['herald_allocator_addresses_in_use_total{pool="empty"}', '0x30'],
          ['herald_allocator_addresses_total{pool="empty"}', '0x30'],
          ['herald_allocator_addresses_in_use_total{pool="routed"}', '50x30'],
          ['herald_allocator_addresses_total{pool="routed"}', '51x30'],
        ]),
        expect: [{ labels: '{pool="lan"}', value: 51 }],
      },
      {
        name: 'one node\'s session down fires for that node only',
        alert: 'HeraldBGPSessionDown',
        series: [
          ['herald_bgp_session_up{node="n1", peer="router", instance="n1:7473"}', '0x30'],
          ['herald_bgp_session_up{node="n2", peer="router", instance="n2:7473"}', '1x30'],
        ],
        expect: [{ labels: '{node="n1", peer="router"}', value: 0 }],
      },
      {
        name: 'a peer some node still reaches is not unreachable',
        alert: 'HeraldBGPPeerUnreachable',
        series: [
          ['herald_bgp_session_up{node="n1", peer="router", instance="n1:7473"}', '0x30'],
          ['herald_bgp_session_up{node="n2", peer="router", instance="n2:7473"}', '1x30'],
          ['herald_bgp_session_up{node="n1", peer="backup", instance="n1:7473"}', '0x30'],
          ['herald_bgp_session_up{node="n2", peer="backup", instance="n2:7473"}', '0x30'],
        ],
        expect: [{ labels: '{peer="backup"}', value: 0 }],
      },
      {
        name: 'four Services hold IPs, two are announced (one dual-stack on one node, one by two nodes): 2',
        alert: 'HeraldServiceNotAnnounced',
        series: [
          ...controller('c1', 1, [
            ['herald_allocator_services_allocated_total{pool="lan"}', '3x30'],
            ['herald_allocator_services_allocated_total{pool="routed"}', '1x30'],
          ]),
          ...controller('c2', 0, [['herald_allocator_services_allocated_total{pool="lan"}', '3x30']]),
          ['herald_speaker_announced{service="demo/a", protocol="layer2", node="n1", ip="192.0.2.200", instance="n1:7473"}', '1x30'],
          ['herald_speaker_announced{service="demo/a", protocol="layer2", node="n1", ip="2001:db8:0:2::200", instance="n1:7473"}', '1x30'],
          ['herald_speaker_announced{service="demo/b", protocol="bgp", node="n1", ip="203.0.113.1", instance="n1:7473"}', '1x30'],
          ['herald_speaker_announced{service="demo/b", protocol="bgp", node="n2", ip="203.0.113.1", instance="n2:7473"}', '1x30'],
        ],
        expect: [{ labels: '{}', value: 2 }],
      },
      {
        name: 'no speaker announces anything: every allocated Service counts',
        alert: 'HeraldServiceNotAnnounced',
        series: controller('c1', 1, [['herald_allocator_services_allocated_total{pool="lan"}', '3x30']]),
        expect: [{ labels: '{}', value: 3 }],
      },
      {
        name: 'every allocated Service announced: quiet',
        alert: 'HeraldServiceNotAnnounced',
        series: [
          ...controller('c1', 1, [['herald_allocator_services_allocated_total{pool="lan"}', '1x30']]),
          ['herald_speaker_announced{service="demo/a", protocol="layer2", node="n1", ip="192.0.2.200", instance="n1:7473"}', '1x30'],
        ],
        expect: [],
      },
      {
        name: 'rejected objects of one kind fire once, whoever reports them',
        alert: 'HeraldConfigInvalid',
        series: [
          ['herald_config_errors{kind="IPAddressPool", instance="c1:7472"}', '1x30'],
          ['herald_config_errors{kind="IPAddressPool", instance="n1:7473"}', '1x30'],
          ['herald_config_errors{kind="BGPPeer", instance="n1:7473"}', '0x30'],
        ],
        expect: [{ labels: '{kind="IPAddressPool"}', value: 1 }],
      },
      {
        name: 'two replicas, neither leading',
        alert: 'HeraldControllerNoLeader',
        series: [...controller('c1', 0, []), ...controller('c2', 0, [])],
        expect: [{ labels: '{}', value: 0 }],
      },
      {
        name: 'a leader: quiet',
        alert: 'HeraldControllerNoLeader',
        series: [...controller('c1', 1, []), ...controller('c2', 0, [])],
        expect: [],
      },
      {
        name: 'no controller series at all',
        alert: 'HeraldControllerDown',
        series: [['herald_bgp_session_up{node="n1", peer="router", instance="n1:7473"}', '1x30']],
        expect: [{ labels: '{}', value: 1 }],
      },
    ];

    it('each expression gives the expected samples (promtool test rules)', () => {
      const tests = cases.map((c) => ({
        interval: '1m',
        input_series: c.series.map(([series, values]) => ({ series, values })),
        promql_expr_test: [
          {
            expr: rule(c.alert).expr,
            eval_time: '20m',
            exp_samples: c.expect.map((e) => ({ labels: e.labels, value: e.value })),
          },
        ],
      }));
      writeFileSync(join(dir, 'cases.yaml'), yaml.dump({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }));
      const r = promtool(['test', 'rules', 'cases.yaml']);
      assert.equal(r.status, 0, `${cases.map((c, i) => `#${i}: ${c.alert}: ${c.name}`).join('\n')}\n${r.out}`);
    });

    it('an alert fires only after its `for`, with its labels and rendered annotations', () => {
      const series = controller('c1', 1, [
        ['herald_allocator_addresses_in_use_total{pool="lan"}', '45x30'],
        ['herald_allocator_addresses_total{pool="lan"}', '50x30'],
      ]);
      const test = {
        interval: '1m',
        input_series: series.map(([s, values]) => ({ series: s, values })),
        alert_rule_test: [
          { eval_time: '10m', alertname: 'HeraldPoolAlmostFull', exp_alerts: [] },
          {
            eval_time: '20m',
            alertname: 'HeraldPoolAlmostFull',
            exp_alerts: [
              {
                exp_labels: { severity: 'warning', pool: 'lan' },
                exp_annotations: {
                  summary: 'IPAddressPool lan is more than 85 % used.',
                  description:
                    '90% of the addresses of pool lan are assigned. Add addresses to the pool or another pool before new LoadBalancer Services go without an IP.',
                },
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'fire.yaml'), yaml.dump({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests: [test] }));
      const r = promtool(['test', 'rules', 'fire.yaml']);
      assert.equal(r.status, 0, r.out);
    });

    it('promtool really fails a wrong expectation (negative control)', () => {
      const test = {
        interval: '1m',
        input_series: controller('c1', 1, []).map(([s, values]) => ({ series: s, values })),
        promql_expr_test: [{ expr: rule('HeraldControllerNoLeader').expr, eval_time: '20m', exp_samples: [{ labels: '{}', value: 0 }] }],
      };
      writeFileSync(join(dir, 'wrong.yaml'), yaml.dump({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests: [test] }));
      assert.notEqual(promtool(['test', 'rules', 'wrong.yaml']).status, 0);
      assert.ok(execFileSync('promtool', ['--version'], { encoding: 'utf8' }).length > 0);
    });
  });
});
