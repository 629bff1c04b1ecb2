/**
 * "Does this value carry another environment's identifiers?", asked of the value
 * as written and of its percent-decoded form: libpq and redis-py connect to the
 * decoded database, user and host, so `%6d%69%6e%61_production` is production's
 * database even though a text scan of the URL does not see it.
 */
import { describeForeign, type IdentityIndex } from "./isolation";
import { percentDecoded } from "../lib/connectionUrl";

/**
 * One line per foreign identifier in `value`, naming `key`, never the value.
 * The percent-decoded form is scanned first, as it is what a client connects
 * with (`%6d%69%6e%61_production` is production's database, not only a word
 * "production"); an identifier that only decoding reveals is marked so. Then
 * the value as written, for identifiers that decoding would break up.
 */
export function foreignProblemsIn(index: IdentityIndex, key: string, value: string, own: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (scanned: string, note: (identifier: string) => string) => {
    for (const m of index.findForeign(scanned, own)) {
      const line = describeForeign(m);
      if (seen.has(line)) continue;
      seen.add(line);
      out.push(`${key} ${line}${note(m.identifier)}`);
    }
  };
  const decoded = percentDecoded(value);
  if (decoded !== value) {
    const written = value.toLowerCase();
    add(decoded, (identifier) => (written.includes(identifier.toLowerCase()) ? "" : " once percent-decoded"));
  }
  add(value, () => "");
  return out;
}
