// core/v1 Events and events.k8s.io/v1 Events are one stored kind seen through two APIs,
// as in Kubernetes (pkg/apis/events/v1/conversion.go): an event written through either
// API appears in both, with these field names mapped.
import type { Obj } from './object.js';

// events.k8s.io/v1 name → core/v1 name
const RENAMES: [string, string][] = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

export function eventsV1ToCore(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    const r = RENAMES.find(([from]) => from === k);
    out[r ? r[1] : k] = v;
  }
  out.apiVersion = 'v1';
  out.kind = 'Event';
  return out;
}

export function coreToEventsV1(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    const r = RENAMES.find(([, to]) => to === k);
    out[r ? r[0] : k] = v;
  }
  out.apiVersion = 'events.k8s.io/v1';
  out.kind = 'Event';
  return out;
}
