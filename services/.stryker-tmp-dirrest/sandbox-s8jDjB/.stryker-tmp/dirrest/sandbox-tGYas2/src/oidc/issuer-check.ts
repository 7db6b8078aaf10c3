// @ts-nocheck
// 
// The configuration check's section for OIDC_CONFIG_FILE: each trusted issuer's discovery document and
// JWKS fetched exactly as the service fetches them (its CA, its deadlines), so a wrong issuer URL, a
// missing ca_file or a blocked egress shows up before the first CI job fails.
import { EXIT } from '../check/report.ts';
import type { Report } from '../check/report.ts';
import { IssuerKeys } from './issuer-keys.ts';
import type { OidcConfig } from './oidc-config.ts';

export async function checkIssuers(oidc: OidcConfig, report: Report): Promise<void> {
  const count = oidc.issuers.length;
  report.info(
    `${count} trusted issuer${count === 1 ? '' : 's'} in ${oidc.file}; tokens log in as ${oidc.username}`,
  );
  await Promise.all(
    oidc.issuers.map(async (issuer) => {
      let failure: string | undefined;
      const keys = new IssuerKeys({
        issuer: issuer.issuer,
        ca: issuer.ca,
        onFetch: (outcome, error) => {
          if (outcome === 'error') failure = error?.message ?? 'fetch failed';
        },
      });
      await keys.prefetch();
      if (failure !== undefined) {
        report.fail(
          `${issuer.name}: the keys of ${issuer.issuer} cannot be fetched: ${failure}${
            issuer.ca === undefined ? ' (a private CA needs ca_file)' : ''
          }`,
          EXIT.misconfigured,
        );
      } else if (keys.keyCount === 0) {
        report.fail(`${issuer.name}: ${issuer.issuer} publishes no public signing key`, EXIT.misconfigured);
      } else {
        report.ok(
          `${issuer.name}: ${issuer.issuer}: ${keys.keyCount} signing key${keys.keyCount === 1 ? '' : 's'}, ` +
            `audience ${issuer.audiences.join(' or ')}, ${issuer.rules.length} rule${issuer.rules.length === 1 ? '' : 's'}`,
        );
      }
    }),
  );
}
