// A RestClient that records requests and answers from a script, for adapter unit tests.
import type { RequestOptions, RestClient } from '../../../../shared/k8s/rest.js';

export interface Call {
  method: string;
  path: string;
  body?: unknown;
  contentType?: string;
}

export class FakeRest implements RestClient {
  readonly server = 'http://fake';
  readonly calls: Call[] = [];
  /** Answers by "METHOD path"; a function may throw to fail the request. */
  constructor(private readonly answer: (c: Call) => unknown = () => ({})) {}

  async request<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const c: Call = { method, path, ...(o.body !== undefined ? { body: structuredClone(o.body) } : {}), ...(o.contentType ? { contentType: o.contentType } : {}) };
    this.calls.push(c);
    return this.answer(c) as T;
  }

  close(): void {}
}
