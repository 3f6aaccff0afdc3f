// The one small interface every announcement protocol implements (MetalLB: one file per
// protocol behind one interface). The speaker core hands each announcer the whole current
// snapshot; the announcer works out what to change (STYLE.md, declarative seams).
import type { SpeakerDeps } from './start.js';
import type { SpeakerSnapshot } from './snapshot.js';

export interface Announcer {
  readonly protocol: 'layer2' | 'bgp';
  /** Called with every new snapshot, and again on resync; must be cheap when nothing changed. */
  update(snapshot: SpeakerSnapshot): void;
  /** Graceful leave: make-before-break for L2, NOTIFICATION or graceful restart for BGP. */
  stop(): Promise<void>;
}

export type AnnouncerFactory = (deps: SpeakerDeps) => Promise<Announcer>;

/**
 * herald_speaker_announced (MetalLB's metallb_speaker_announced): 1 per Service, IP and
 * protocol announced from this node. Both announcers add their part as a source of one
 * sampled gauge (shared/metrics.ts).
 */
export const ANNOUNCED_METRIC = {
  name: 'speaker_announced',
  help: 'Services being announced from this node (1), by service, protocol, node and IP.',
  labelNames: ['service', 'protocol', 'node', 'ip'],
} as const;

export type AnnouncedLabels = Record<(typeof ANNOUNCED_METRIC.labelNames)[number], string>;
