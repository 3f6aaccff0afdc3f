// MetalLB's IP sharing rules (allow-shared-ip): Services may share an address only when
// both carry the same non-empty key, no (protocol, port) pair collides (TCP/53 and UDP/53
// may share), and their backends agree, so that every node that attracts the traffic
// can deliver it to every Service on the address.
import { formatIP, type IP } from '../shared/ip/ip.js';
import type { AllocationFailure, ServicePort } from './allocator-types.js';

/** One Service's use of an address. */
export interface Holder {
  key: string;
  ports: readonly ServicePort[];
  /** Empty: does not share. */
  sharingKey: string;
  backendKey: string;
}

function portId(p: ServicePort): string {
  return `${p.protocol}/${p.port}`;
}

/**
 * Whether `svc` may hold `ip`, which `holders` hold already (its own entry, if any,
 * is ignored: a Service may change its key or ports while it is alone on an address).
 * Returns the refusal, or undefined when the address may be shared.
 */
export function sharingRefusal(ip: IP, holders: Iterable<Holder>, svc: Holder): AllocationFailure | undefined {
  let ports: Set<string> | undefined;
  for (const h of holders) {
    if (h.key === svc.key) continue;
    if (h.sharingKey === '' || svc.sharingKey === '') {
      const who = h.sharingKey === '' ? `${h.key}, which does not allow sharing` : `${h.key}, and ${svc.key} has no allow-shared-ip key`;
      return { reason: 'IPInUse', message: `${formatIP(ip)} is already used by ${who}` };
    }
    if (h.sharingKey !== svc.sharingKey) {
      return {
        reason: 'SharingConflict',
        message: `${formatIP(ip)} is shared by ${h.key} under key "${h.sharingKey}", not "${svc.sharingKey}"`,
      };
    }
    if (h.backendKey !== svc.backendKey) {
      return {
        reason: 'SharingConflict',
        message: `${formatIP(ip)} is shared by ${h.key}, whose backends differ (externalTrafficPolicy/selector ${h.backendKey} vs ${svc.backendKey})`,
      };
    }
    ports ??= new Set(svc.ports.map(portId));
    const mine = ports;
    const clash = h.ports.map(portId).find((p) => mine.has(p));
    if (clash) {
      return { reason: 'SharingConflict', message: `port ${clash} on ${formatIP(ip)} is already used by ${h.key}` };
    }
  }
  return undefined;
}
