// Real skopeo through real nginx (auth_request): who may push and pull, seen from the client and from
// the registry's disk.
import { pushPullMatrix } from './support/push-pull-matrix.ts';
import { startE2e } from './support/fixture.ts';

pushPullMatrix('push and pull through nginx with LDAP groups', async () => {
  const { e2e, teardown } = await startE2e();
  return {
    e2e,
    host: e2e.stack.host,
    async loggedUser(user, method, path, status) {
      const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const line = new RegExp(` - ${escape(user)} \\[.*"${method} ${escape(path)} HTTP/1\\.1" ${status} `);
      return (await e2e.stack.nginx.accessLogLines()).some((l) => line.test(l));
    },
    teardown,
  };
});
