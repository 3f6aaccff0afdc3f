// Builds a minimal CRD around a spec schema, so engine tests state only what they test.
import { compileCRD, type CompiledCRD } from '../../../apiserver/crd-validation.js';

export function crdWith(
  spec: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  rootRules: Record<string, unknown>[] = [],
): CompiledCRD {
  return compileCRD({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.test' },
    spec: {
      group: 'example.test',
      scope: 'Namespaced',
      names: { kind: 'Widget', plural: 'widgets' },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: {
            openAPIV3Schema: {
              type: 'object',
              ...(rootRules.length ? { 'x-kubernetes-validations': rootRules } : {}),
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec,
                status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                ...extra,
              },
            },
          },
        },
      ],
    },
  });
}

export function widget(spec: unknown, more: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'example.test/v1', kind: 'Widget', metadata: { name: 'w', namespace: 'default' }, spec, ...more };
}

/** `<field>: <message>` lines, as kubectl prints the causes. */
export function lines(errors: { field: string; message: string }[]): string[] {
  return errors.map((e) => `${e.field}: ${e.message}`);
}
