// metav1.LabelSelector semantics: matchLabels and matchExpressions are ANDed; an empty
// selector matches everything. A list of selectors (nodeSelectors, serviceSelectors …)
// matches when any one of them does, and an empty list matches everything.
import type { LabelSelector } from './types.js';

export function matchesSelector(selector: LabelSelector, labels: Readonly<Record<string, string>> = {}): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const req of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, req.key);
    const value = labels[req.key];
    switch (req.operator) {
      case 'In':
        if (!has || !(req.values ?? []).includes(value as string)) return false;
        break;
      case 'NotIn':
        if (has && (req.values ?? []).includes(value as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export function matchesAnySelector(
  selectors: readonly LabelSelector[] | undefined,
  labels: Readonly<Record<string, string>> = {},
): boolean {
  if (!selectors || selectors.length === 0) return true;
  return selectors.some((s) => matchesSelector(s, labels));
}
