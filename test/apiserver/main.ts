// `herald apiserver`: runs the embedded API server until SIGTERM or SIGINT.
import { parseArgs } from 'node:util';
import { isLogLevel, createLogger } from '../../shared/log.js';
import { startApiServer } from './server.js';

const USAGE = `usage: npm run -s herald -- apiserver [flags]

Runs herald's embedded Kubernetes API server (HTTPS, self-signed) with the CRDs in manifests/crds and
the RBAC rules in manifests/ enforced, until SIGTERM or SIGINT.

flags:
  --listen HOST:PORT       address to serve on (default 127.0.0.1:6443; port 0 picks one)
  --kubeconfig-out FILE    write a kubeconfig for the admin identity to FILE, and for the
                           controller and speaker service accounts to FILE.controller and
                           FILE.speaker
  --unix-socket PATH       also serve on this unix socket
  --crd-dir DIR            CRD manifests to serve (default manifests/crds)
  --rbac-dir DIR           where RBAC objects are read from (default manifests)
  --service-node-port-range MIN-MAX
                           node ports for NodePort/LoadBalancer Services (default 30000-32767)
  --no-authorization       allow every authenticated request
  --no-tls                 serve plain HTTP (kubectl then sends no credentials: only
                           clients such as client-node can use it)
  --cert-san NAME|IP       extra name or address for the serving certificate (repeatable)
  --log-level LEVEL        fatal|error|warn|info|debug|trace|silent (default info)
  -h, --help               show this help`;

export async function main(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        listen: { type: 'string', default: '127.0.0.1:6443' },
        'kubeconfig-out': { type: 'string' },
        'unix-socket': { type: 'string' },
        'crd-dir': { type: 'string' },
        'rbac-dir': { type: 'string' },
        'no-authorization': { type: 'boolean', default: false },
        'service-node-port-range': { type: 'string' },
        'no-tls': { type: 'boolean', default: false },
        'cert-san': { type: 'string', multiple: true, default: [] },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`herald apiserver: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const level = values['log-level'];
  if (!isLogLevel(level)) {
    console.error(`herald apiserver: unknown --log-level "${level}"`);
    return 2;
  }
  const log = createLogger({ component: 'apiserver', level });
  const server = await startApiServer({
    listen: values.listen,
    logger: log,
    authorization: !values['no-authorization'],
    tls: !values['no-tls'],
    certSANs: values['cert-san'],
    ...(values['unix-socket'] ? { unixSocket: values['unix-socket'] } : {}),
    ...(values['crd-dir'] ? { crdDir: values['crd-dir'] } : {}),
    ...(values['service-node-port-range'] ? { nodePortRange: values['service-node-port-range'] } : {}),
    ...(values['rbac-dir'] ? { rbacDir: values['rbac-dir'] } : {}),
  });
  const out = values['kubeconfig-out'];
  if (out) {
    server.writeKubeconfig(out, 'admin');
    server.writeKubeconfig(`${out}.controller`, 'controller');
    server.writeKubeconfig(`${out}.speaker`, 'speaker');
    log.info({ kubeconfig: out }, 'kubeconfigs written');
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      log.info({ signal }, 'shutting down');
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
  await server.close();
  return 0;
}
