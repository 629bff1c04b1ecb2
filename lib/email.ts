/**
 * The catch-all inbox of a non-production environment (`EMAIL_REDIRECT_TO`): an
 * address, and not one at a production environment's domain, where a redirected
 * message could reach a real user or a production mailbox.
 */

/** An email address, as far as a redirect target needs one. */
export const EMAIL_ADDRESS = /^[^\s@]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)\.?$/i;

/**
 * The production domain an address is at (that domain or below it), if any; below this
 * environment's own share domain (`staging.mina.app` under `mina.app`) is this environment's.
 */
export function productionDomainOf(address: string, productionDomains: readonly string[], ownShareDomain?: string): string | undefined {
  const m = EMAIL_ADDRESS.exec(address.trim());
  if (!m) return undefined;
  const domain = m[1]!.toLowerCase();
  const under = (d: string) => domain === d || domain.endsWith(`.${d}`);
  const own = ownShareDomain?.toLowerCase().replace(/\.$/, "");
  if (own && under(own)) return undefined;
  return productionDomains.map((d) => d.toLowerCase().replace(/\.$/, "")).find((d) => d !== "" && under(d));
}
