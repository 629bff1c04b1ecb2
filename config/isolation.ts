/**
 * One implementation of "does this value belong to another environment?",
 * shared by config validation, the env-file exporter, `verify` and the policy pack.
 *
 * Each environment has an identity: its name, common aliases of that name, and
 * the concrete identifiers it owns (database names, bucket, domain, account ids,
 * Slack channel...). A value is scanned left to right; at each position the
 * longest identifier that matches on word boundaries wins. So `staging.mina.app`
 * belongs to staging even though it ends in production's `mina.app`, and
 * `mina-audio-staging-blue` belongs to `staging-blue`, not to `staging`.
 *
 * Each identity may carry its environment's tier (config/tiers.ts): an identifier
 * of a kind the non-production tier shares (an account id, a hosted zone) is not
 * foreign between two environments of that tier. An identity without a tier
 * shares nothing.
 */
import { PRODUCTION_NAME_WORDS } from "./defaults";
import { mayShareKind, type ShareGroup } from "./tiers";

/** Environments every stack knows about, even before their stack files exist. */
export const BUILTIN_ENVIRONMENTS = ["staging", "production"] as const;

/** Other spellings people use for an environment's name. */
export const ALIASES: Readonly<Record<string, readonly string[]>> = {
  production: PRODUCTION_NAME_WORDS.filter((w) => w !== "production"),
  staging: ["stage", "stg"],
};

export interface Identifier {
  /** What the identifier is, for messages: "account id", "database name"... */
  readonly kind: string;
  readonly value: string;
  /**
   * A hostname matches only as a whole host: `api.mina.app` and `ops@mina.app` do not
   * carry the domain `mina.app`, but `https://mina.app/x` does.
   */
  readonly hostname?: boolean;
}

export interface EnvironmentIdentity {
  readonly environment: string;
  readonly identifiers: readonly Identifier[];
  /** The environment's tier; without one it shares nothing (deny by default). */
  readonly tier?: ShareGroup;
}

export interface ForeignMatch {
  /** The other environment the value belongs to. */
  readonly environment: string;
  readonly kind: string;
  /** The identifier found in the value (an identifier, never a secret). */
  readonly identifier: string;
}

/** Builds an identity: the name, its aliases, then the given identifiers; and the tier, when known. */
export function identity(environment: string, identifiers: Iterable<Identifier> = [], tier?: ShareGroup): EnvironmentIdentity {
  const ids: Identifier[] = [{ kind: "environment name", value: environment }];
  for (const alias of ALIASES[environment] ?? []) ids.push({ kind: "environment name", value: alias });
  for (const id of identifiers) if (id.value.trim() !== "") ids.push(id);
  return tier === undefined ? { environment, identifiers: ids } : { environment, identifiers: ids, tier };
}

/**
 * What counts as "more of the same word" next to a match. An environment name is
 * found inside hyphenated or underscored names (`mina_production`); a concrete
 * identifier must stand whole (`#mina-alerts-archive` is not `#mina-alerts`); a
 * hostname must be the whole host.
 */
const WORD = {
  name: /[a-z0-9]/i,
  identifier: /[a-z0-9_-]/i,
  hostname: /[a-z0-9.@-]/i,
} as const;

interface Entry {
  readonly value: string; // lower-cased
  readonly owners: Map<string, string>; // environment -> kind
  word: RegExp;
}

/** An index of many identities, built once and scanned many times. */
export class IdentityIndex {
  private readonly byFirstChar = new Map<string, Entry[]>();
  /** Each environment's tier; an environment given two tiers keeps the stricter. */
  private readonly tiers = new Map<string, ShareGroup>();

  constructor(identities: Iterable<EnvironmentIdentity>) {
    const entries = new Map<string, Entry>();
    for (const ident of identities) {
      if (ident.tier !== undefined && this.tiers.get(ident.environment) !== "production") this.tiers.set(ident.environment, ident.tier);
      for (const id of ident.identifiers) {
        const value = id.value.toLowerCase();
        let e = entries.get(value);
        if (!e) {
          e = { value, owners: new Map(), word: WORD.identifier };
          entries.set(value, e);
        }
        if (id.hostname) e.word = WORD.hostname;
        else if (id.kind === "environment name") e.word = WORD.name;
        if (!e.owners.has(ident.environment)) e.owners.set(ident.environment, id.kind);
      }
    }
    for (const e of entries.values()) {
      const list = this.byFirstChar.get(e.value[0]) ?? [];
      list.push(e);
      this.byFirstChar.set(e.value[0], list);
    }
    for (const list of this.byFirstChar.values()) list.sort((a, b) => b.value.length - a.value.length);
  }

  /** Every identifier `value` carries, with every environment that owns it, left to right. */
  scan(value: string): ForeignMatch[] {
    const text = value.toLowerCase();
    const found: ForeignMatch[] = [];
    let i = 0;
    while (i < text.length) {
      const match = this.longestAt(text, i);
      if (!match) {
        i++;
        continue;
      }
      for (const [env, kind] of match.owners) found.push({ environment: env, kind, identifier: value.slice(i, i + match.value.length) });
      i += match.value.length;
    }
    return found;
  }

  /**
   * Returns the identifiers of environments other than `own` that `value` carries.
   * An identifier owned by `own` as well as by another environment is still reported:
   * two environments sharing an account id or a domain is exactly what must fail,
   * unless both are of the non-production tier and the kind is one that tier shares.
   */
  findForeign(value: string, own: string): ForeignMatch[] {
    const ownTier = this.tiers.get(own);
    return this.scan(value).filter((m) => m.environment !== own && !mayShareKind(m.kind, ownTier, this.tiers.get(m.environment)));
  }

  /** The tier an environment was given, if any. */
  tierOf(environment: string): ShareGroup | undefined {
    return this.tiers.get(environment);
  }

  /** True when `value` names `environment` itself (its name on word boundaries, not inside a longer name). */
  names(value: string, environment: string): boolean {
    return this.scan(value).some((m) => m.environment === environment && m.kind === "environment name");
  }

  private longestAt(text: string, i: number): Entry | undefined {
    const candidates = this.byFirstChar.get(text[i]);
    if (!candidates) return undefined;
    for (const e of candidates) {
      if (!text.startsWith(e.value, i)) continue;
      const end = i + e.value.length;
      const inWord = (c: string | undefined) => c !== undefined && e.word.test(c);
      const leftOk = !inWord(e.value[0]) || !inWord(text[i - 1]);
      // A sentence may end a hostname with a full stop.
      const rightOk = !inWord(e.value[e.value.length - 1]) || !inWord(text[end]) || (e.word === WORD.hostname && text[end] === "." && !inWord(text[end + 1]));
      if (leftOk && rightOk) return e;
    }
    return undefined;
  }
}

/** Formats one match for an error line: `names production (its database name "mina_production")`. */
export function describeForeign(m: ForeignMatch): string {
  return m.kind === "environment name" ? `names environment "${m.environment}" ("${m.identifier}")` : `carries ${m.environment}'s ${m.kind} "${m.identifier}"`;
}
