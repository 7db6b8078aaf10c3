// npm run compose:up [-- --monitoring]: builds what is needed and starts compose/docker-compose.yml on this
// machine's podman (with compose/local/'s stand-ins for the images that cannot be pulled), then prints
// where to find it. The stack keeps running; `npm run compose:down` removes it.
import { composeUp } from './compose.ts';

const port = Number(process.env['REGISTRY_PORT'] ?? 5043);
const monitoring = process.argv.includes('--monitoring');
const stack = await composeUp({
  registryPort: port,
  monitoring,
  ...(process.env['PROMETHEUS_PORT'] === undefined
    ? {}
    : { prometheusPort: Number(process.env['PROMETHEUS_PORT']) }),
  log: (line) => {
    console.error(`compose:up: ${line}`);
  },
});
await stack.detach();
console.log(`Registry: ${stack.url} (project ${stack.project})
CA:       ${stack.caFile}
Users:    alice / alice-password (push), bob / bob-password (pull)
Try:      skopeo inspect --cert-dir <dir holding the CA as ca.crt> --creds alice:alice-password docker://${stack.host}/team/app:v1
${stack.prometheusUrl === undefined ? '' : `Metrics:  ${stack.prometheusUrl} (Prometheus)\n`}Stop:     npm run compose:down`);
