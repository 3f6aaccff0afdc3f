// A minimal ARP/NDP responder built from herald-native and the speaker/l2 codecs, run by
// packet-socket.test.ts inside a network namespace. It answers for one IPv4 and one IPv6
// address, sends gratuitous announcements on request, and reports every frame it
// receives as a JSON line on stdout, so the test can check what the BPF filter let in.
//
//   node --import tsx responder-fixture.ts <ifname> <ipv4> <ipv6>
//   stdin: {"cmd":"garp","ip":"192.0.2.20"} | {"cmd":"una","ip":"2001:db8::20"}
import { createInterface } from 'node:readline';
import { formatIP, parseIP } from '../../../shared/ip/ip.js';
import { arpReplyFrame, decodeArpFrame, gratuitousArpFrame } from '../../../speaker/l2/arp.js';
import { L2DecodeError } from '../../../speaker/l2/ethernet.js';
import {
  decodeNdpFrame,
  neighborAdvertisementFrame,
  solicitedNodeAddress,
  unsolicitedNeighborAdvertisementFrame,
} from '../../../speaker/l2/ndp.js';
import { interfaceByName, MulticastMemberships, PacketSocket } from '../../../speaker/native/index.js';

const [ifname, v4text, v6text] = process.argv.slice(2);
const v4 = parseIP(v4text ?? '');
const v6 = parseIP(v6text ?? '');
const iface = ifname ? await interfaceByName(ifname) : undefined;
if (!iface || !iface.mac || v4?.family !== 4 || v6?.family !== 6) {
  console.error('usage: responder-fixture.ts <ifname> <ipv4> <ipv6>');
  process.exit(2);
}
const mac = iface.mac;
const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);

const memberships = new MulticastMemberships();
const group = formatIP({ family: 6, value: solicitedNodeAddress(v6.value) });
memberships.join(iface.index, group);

const socket = new PacketSocket({
  ifindex: iface.index,
  onError: (err) => report({ event: 'error', code: err.code, message: err.message }),
  onFrame: ({ frame, ifindex, packetType }) => {
    try {
      const arp = decodeArpFrame(frame);
      if (arp.ok) {
        const answer = arp.value.arp.operation === 'request' && arp.value.arp.targetIP === v4.value;
        if (answer) socket.send(arpReplyFrame(arp.value, mac));
        report({ event: 'arp', operation: arp.value.arp.operation, target: formatIP({ family: 4, value: arp.value.arp.targetIP }), answered: answer, ifindex, packetType });
        return;
      }
      const ndp = decodeNdpFrame(frame);
      if (ndp.ok) {
        const answer = ndp.value.message.type === 'neighbor-solicitation' && ndp.value.message.target === v6.value;
        if (answer) socket.send(neighborAdvertisementFrame(ndp.value, mac));
        report({ event: 'ndp', type: ndp.value.message.type, target: formatIP({ family: 6, value: ndp.value.message.target }), answered: answer, ifindex, packetType });
        return;
      }
      report({ event: 'other', arpDrop: arp.drop, ndpDrop: ndp.drop, hex: frame.toString('hex') });
    } catch (err) {
      report({ event: err instanceof L2DecodeError ? 'malformed' : 'bug', message: String(err), hex: frame.toString('hex') });
    }
  },
});

createInterface({ input: process.stdin }).on('line', (line) => {
  const { cmd, ip } = JSON.parse(line) as { cmd: string; ip: string };
  const addr = parseIP(ip);
  if (cmd === 'garp' && addr?.family === 4) {
    socket.send(gratuitousArpFrame(addr.value, mac, 'request'));
    socket.send(gratuitousArpFrame(addr.value, mac, 'reply'));
  } else if (cmd === 'una' && addr?.family === 6) {
    socket.send(unsolicitedNeighborAdvertisementFrame(addr.value, mac));
  }
  report({ event: 'sent', cmd, ip });
}).on('close', () => {
  socket.close();
  memberships.close();
});

report({ event: 'ready', ifindex: iface.index, mac, group });
