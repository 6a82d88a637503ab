import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { InputError } from '../../core/errors.js';
import { WEBHOOK_LIMITS } from './limits.js';

/** A webhook target that passed the checks: the URL and the address to connect to. */
export interface CheckedTarget {
  url: URL;
  /** The host name as it goes in the Host header and TLS SNI (no brackets for IPv6). */
  host: string;
  address: string;
  family: 4 | 6;
}

export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

const systemResolver: Resolver = (host) => dnsLookup(host, { all: true, verbatim: true });

/** IPv4 ranges no webhook may reach: [first octets as a number, prefix length, what it is]. */
const V4_BLOCKED: [string, number, string][] = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (carrier-grade NAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (cloud metadata)'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved / broadcast'],
];

function v4ToInt(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function v4Problem(ip: string): string | null {
  const n = v4ToInt(ip);
  for (const [base, bits, what] of V4_BLOCKED) {
    const size = 2 ** (32 - bits);
    const start = v4ToInt(base);
    if (n >= start && n < start + size) return what;
  }
  return null;
}

/** The eight 16-bit groups of an IPv6 address (with a dotted IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let s = ip.toLowerCase();
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (tail) {
    const n = v4ToInt(tail[1]!);
    s = `${s.slice(0, -tail[1]!.length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, rest] = s.split('::') as [string, string | undefined];
  const parse = (part: string) => (part === '' ? [] : part.split(':').map((h) => parseInt(h, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  return [...left, ...fill, ...right];
}

function v6Problem(ip: string): string | null {
  const g = v6Groups(ip);
  const embedded = (hi: number, lo: number) => `${hi >>> 8}.${hi & 0xff}.${lo >>> 8}.${lo & 0xff}`;
  const zeros = (n: number) => g.slice(0, n).every((x) => x === 0);
  if (zeros(8)) return 'unspecified';
  if (zeros(7) && g[7] === 1) return 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d) and the old IPv4-compatible (::a.b.c.d) forms: judge the IPv4 address.
  if (zeros(5) && g[5] === 0xffff) return v4Problem(embedded(g[6]!, g[7]!));
  if (zeros(6)) return v4Problem(embedded(g[6]!, g[7]!)) ?? 'IPv4-compatible (deprecated)';
  // NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) carry an IPv4 address that a gateway reaches.
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) {
    return v4Problem(embedded(g[6]!, g[7]!));
  }
  if (g[0] === 0x2002) return v4Problem(embedded(g[1]!, g[2]!));
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return 'private (unique local)';
  if ((first & 0xffc0) === 0xfe80) return 'link-local';
  if ((first & 0xffc0) === 0xfec0) return 'site-local (deprecated)';
  if ((first & 0xff00) === 0xff00) return 'multicast';
  if (first === 0x100 && g.slice(1, 4).every((x) => x === 0)) return 'discard-only';
  return null;
}

/**
 * Why a webhook may not connect to `ip` (loopback, private, link-local incl. 169.254.169.254,
 * unspecified, multicast, ... also in IPv4-mapped, NAT64 and 6to4 IPv6 forms), or null if it may.
 */
export function forbiddenAddress(ip: string): string | null {
  const v = isIP(ip);
  if (v === 4) return v4Problem(ip);
  if (v === 6) return v6Problem(ip);
  return 'not an IP address';
}

/**
 * Checks a webhook URL and resolves its host: http or https only, no user name or password in it,
 * and (unless `allowPrivate`, an admin setting) every address the host resolves to must be a public
 * one. Returns the address to connect to, so the connection goes where the check looked (a second
 * lookup could answer differently: DNS rebinding). Run at creation and again before each delivery.
 */
export async function checkWebhookUrl(
  raw: string,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<CheckedTarget> {
  const bad = (why: string) => new InputError(`webhook url refused: ${why}`, 'url');
  if (raw.length > WEBHOOK_LIMITS.urlLength) throw bad(`longer than ${WEBHOOK_LIMITS.urlLength} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('not an absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad(`scheme ${url.protocol} (use http or https)`);
  if (url.username || url.password) throw bad('credentials in the URL (use the signing secret instead)');
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (!host) throw bad('no host');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw bad(`cannot resolve ${host}: ${(err as { code?: string }).code ?? (err as Error).message}`);
    }
    if (addresses.length === 0) throw bad(`${host} resolves to no address`);
  }
  if (!allowPrivate) {
    for (const a of addresses) {
      const why = forbiddenAddress(a.address);
      if (why) {
        throw bad(
          `${host === a.address ? host : `${host} resolves to ${a.address}, which`} is ${why}; such targets need the admin setting webhooksAllowPrivateTargets`,
        );
      }
    }
  }
  const first = addresses[0]!;
  return { url, host, address: first.address, family: first.family === 6 ? 6 : 4 };
}
