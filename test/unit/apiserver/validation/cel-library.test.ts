// The Kubernetes CEL IP/CIDR library as registered on cel-js, against the results
// Kubernetes' library gives (k8s.io/apiserver/pkg/cel/library ip.go, cidr.go).
import { strict as assert } from 'node:assert';
import { newRuleEnvironment } from '../../../apiserver/cel-library.js';

const env = newRuleEnvironment();
const run = (expr: string): unknown => env.evaluate(expr, {});

describe('apiserver CEL Kubernetes library', () => {
  const table: [string, unknown][] = [
    ["isIP('192.0.2.1')", true],
    ["isIP('2001:db8::1')", true],
    ["isIP('2001:DB8::1')", true],
    ["isIP('::1.2.3.4')", true],
    ["isIP('192.0.2.01')", false], // leading zeros
    ["isIP('::ffff:192.0.2.1')", false], // IPv4-mapped IPv6
    ["isIP('fe80::1%eth0')", false], // zone
    ["isIP('192.0.2.1/32')", false],
    ["isIP(' 192.0.2.1')", false],
    ["isIP('')", false],
    ["isIP('1.2.3')", false],
    ["ip('192.0.2.1').family()", 4n],
    ["ip('2001:db8::1').family()", 6n],
    ["string(ip('2001:DB8:0:0:0:0:0:1'))", '2001:db8::1'],
    ["ip('192.0.2.1') == ip('192.0.2.1')", true],
    ["ip('2001:db8::1') == ip('2001:db8:0::1')", true],
    ["ip('192.0.2.1') != ip('192.0.2.2')", true],
    ["ip('0.0.0.0').isUnspecified()", true],
    ["ip('::').isUnspecified()", true],
    ["ip('127.0.0.9').isLoopback()", true],
    ["ip('::1').isLoopback()", true],
    ["ip('169.254.1.1').isLinkLocalUnicast()", true],
    ["ip('fe80::1').isLinkLocalUnicast()", true],
    ["ip('224.0.0.5').isLinkLocalMulticast()", true],
    ["ip('ff02::1').isLinkLocalMulticast()", true],
    ["ip('192.0.2.1').isGlobalUnicast()", true],
    ["ip('255.255.255.255').isGlobalUnicast()", false],
    ["ip('239.1.1.1').isGlobalUnicast()", false],
    ["isCIDR('192.0.2.0/24')", true],
    ["isCIDR('192.0.2.7/24')", true], // host bits are allowed; masked() tells them apart
    ["isCIDR('2001:db8::/32')", true],
    ["isCIDR('192.0.2.0/33')", false],
    ["isCIDR('192.0.2.0/024')", false],
    ["isCIDR('192.0.2.0')", false],
    ["isCIDR('::ffff:192.0.2.0/120')", false],
    ["cidr('192.0.2.7/24').prefixLength()", 24n],
    ["string(cidr('192.0.2.7/24').masked())", '192.0.2.0/24'],
    ["cidr('192.0.2.7/24').ip() == ip('192.0.2.7')", true],
    ["cidr('192.0.2.7/24') == cidr('192.0.2.7/24').masked()", false],
    ["cidr('192.0.2.0/24') == cidr('192.0.2.0/24').masked()", true],
    ["cidr('192.0.2.0/24').containsIP('192.0.2.255')", true],
    ["cidr('192.0.2.0/24').containsIP(ip('192.0.3.0'))", false],
    ["cidr('192.0.2.0/24').containsIP('2001:db8::1')", false],
    ["cidr('2001:db8::/32').containsCIDR('2001:db8:ff::/48')", true],
    ["cidr('2001:db8::/48').containsCIDR(cidr('2001:db8::/32'))", false],
    ["string(cidr('2001:DB8::/32'))", '2001:db8::/32'],
    ["'a::b'.replace('::', ':z:')", 'a:z:b'],
    ["'aaa'.replace('a', 'b', 2)", 'bba'],
    ["'abc'.replace('', '-')", '-a-b-c-'],
  ];
  for (const [expr, want] of table) {
    it(`${expr} == ${String(want)}`, () => assert.equal(run(expr), want));
  }

  it('fails ip() and cidr() on bad input, as Kubernetes does at runtime', () => {
    assert.throws(() => run("ip('192.0.2.300')"), /parse error/);
    assert.throws(() => run("cidr('192.0.2.0')"), /parse error/);
  });
});
