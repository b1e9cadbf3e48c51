import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { noMeta } from '../../src/platform/audit.js';
import { firstAdmin } from '../admin/admin.js';
import { auth, createTestApp, signUp, type SignedUp, type TestApp } from '../helpers/app.js';
import { allRoutes } from '../helpers/routes.js';
import { Visitor } from '../pages/form.js';
import { Digest } from './digest.js';
import { operations, requestFor, type FuzzRequest, type Operation } from './requests.js';

export type CallerKind = 'anonymous' | 'member' | 'agent' | 'admin' | 'service';

/** Who sends a case: a bearer token for the API, and a browser's cookies and CSRF token for pages. */
interface Caller {
  kind: CallerKind;
  bearer?: string;
  visitor: Visitor;
  accountToken?: string;
}

export interface Fuzz {
  t: TestApp;
  ops: Operation[];
  callers: Caller[];
  digest: Digest;
  keeper: SignedUp;
  close(): Promise<void>;
}

export async function startFuzz(kinds: CallerKind[]): Promise<Fuzz> {
  const t = await createTestApp();
  // The keeper grants roles and is never a caller, so no case can take its powers away.
  const keeper = await firstAdmin(t);
  const callers: Caller[] = [];
  for (const kind of kinds) callers.push(await makeCaller(t, keeper, kind));
  const ops = await operations(t, allRoutes(t.app), callers.find((c) => c.kind === 'admin')?.visitor ?? (await pageVisitor(t, keeper.token)));
  return { t, ops, callers, keeper, digest: await Digest.open(t.db), close: () => t.close() };
}

async function pageVisitor(t: TestApp, token?: string): Promise<Visitor> {
  const visitor = new Visitor(t);
  if (token) visitor.cookies.set('verity_session', token);
  await visitor.get(token ? '/account' : '/login'); // the CSRF token of this browser
  if (!visitor.csrf) throw new Error('no CSRF token on the page');
  return visitor;
}

async function makeCaller(t: TestApp, keeper: SignedUp, kind: CallerKind): Promise<Caller> {
  if (kind === 'anonymous') return { kind, visitor: await pageVisitor(t) };
  if (kind === 'service') {
    const { key } = await t.app.verity.admin.createServiceKey(keeper.id, `fuzz-${Date.now()}`, noMeta);
    return { kind, bearer: key, visitor: await pageVisitor(t) };
  }
  const member = await signUp(t);
  if (kind === 'agent' || kind === 'admin') await t.app.verity.admin.grant(keeper.id, member.username, kind, noMeta);
  return { kind, bearer: member.token, accountToken: member.token, visitor: await pageVisitor(t, member.token) };
}

/** A case may sign its caller out or lock the account (a successful "not me"): start it again. */
async function stillSignedIn(t: TestApp, caller: Caller): Promise<boolean> {
  if (!caller.accountToken) return true;
  const res = await t.app.inject({ method: 'GET', url: '/v1/me', headers: auth(caller.accountToken) });
  return res.statusCode === 200;
}

/** A 403 step_up_required answer opens the challenge it hands over: that one write is its point. */
function stepUpAsked(res: LightMyRequestResponse): boolean {
  return res.statusCode === 403 && /"code":"step_up_required"/.test(res.body);
}

const STACK = /\n\s+at [^\n]+:\d+:\d+|node_modules\/|\/src\/[\w/-]+\.ts/;

/** What is wrong with one answer, in words; empty when it is fine. */
export function faults(req: FuzzRequest, res: LightMyRequestResponse): string[] {
  const out: string[] = [];
  if (res.statusCode >= 500) out.push(`answered ${res.statusCode}`);
  if (res.statusCode < 400) return out;
  const type = String(res.headers['content-type'] ?? '');
  if (req.api || type.includes('json')) {
    if (!type.startsWith('application/problem+json')) out.push(`error as ${type || 'no content type'}, not a problem document`);
    try {
      const body = JSON.parse(res.body) as { type?: unknown; title?: unknown; status?: unknown };
      if (typeof body.type !== 'string' || typeof body.title !== 'string' || body.status !== res.statusCode) out.push(`problem document lacks type/title/status: ${res.body.slice(0, 200)}`);
    } catch {
      out.push(`error body is not JSON: ${res.body.slice(0, 200)}`);
    }
  } else if (!type.startsWith('text/html')) {
    out.push(`page error as ${type || 'no content type'}`);
  }
  if (STACK.test(res.body)) out.push('stack trace or source path in the answer');
  return out;
}

function describeCase(caller: Caller, req: FuzzRequest, res: LightMyRequestResponse): string {
  const payload = req.payload === undefined ? '' : ` body(${req.payload.length})=${req.payload.slice(0, 300)}`;
  return `${caller.kind} ${req.method} ${req.url.slice(0, 300)} headers=${JSON.stringify(req.headers).slice(0, 300)}${payload} → ${res.statusCode} ${res.body.slice(0, 300)}`;
}

export const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : Math.floor(Math.random() * 2 ** 31);
/** With FUZZ_SURVEY=1 the run lists every fault it meets instead of stopping at the first. */
const SURVEY = process.env.FUZZ_SURVEY === '1';

/**
 * Runs `runs` generated requests against `fuzz`'s operations as its callers. Each refused
 * request (4xx) must leave every table's digest as it was before it.
 */
export async function runFuzz(fuzz: Fuzz, runs: number): Promise<{ runs: number; statuses: Record<string, number>; timing: { inject: number; digest: number }; survey: string[] }> {
  const { t } = fuzz;
  const statuses: Record<string, number> = {};
  const survey = new Set<string>();
  await fuzz.digest.changes();
  const timing = { inject: 0, digest: 0 };
  const arb = fc.tuple(fc.nat({ max: fuzz.callers.length - 1 }), fc.nat({ max: fuzz.ops.length - 1 })).chain(([c, o]) =>
    requestFor(fuzz.ops[o]!).map((build) => ({ c, build })),
  );
  await fc.assert(
    fc.asyncProperty(arb, async ({ c, build }) => {
      const caller = fuzz.callers[c]!;
      const req = build({ bearer: caller.bearer, cookie: caller.visitor.cookieHeader(), csrf: caller.visitor.csrf });
      const t0 = performance.now();
      const res = await t.app.inject({ method: req.method as 'GET', url: req.url, headers: req.headers, payload: req.payload, remoteAddress: req.ip });
      const key = `${res.statusCode}`;
      statuses[key] = (statuses[key] ?? 0) + 1;
      const found = faults(req, res);
      const t1 = performance.now();
      const changed = await fuzz.digest.changes();
      timing.inject += t1 - t0;
      timing.digest += performance.now() - t1;
      const unexpected = changed.filter((table) => !(table === 'challenges' && stepUpAsked(res)));
      if (res.statusCode >= 400 && res.statusCode < 500 && unexpected.length) found.push(`refused, yet changed ${unexpected.join(', ')}`);
      if (res.statusCode < 400 && !(await stillSignedIn(t, caller))) {
        fuzz.callers[c] = await remake(fuzz, caller.kind);
        await fuzz.digest.changes();
      }
      if (!found.length) return;
      const message = `${found.join('; ')}\n  case: ${describeCase(caller, req, res)}`;
      if (!SURVEY) throw new Error(`${message}\n  replay with FUZZ_SEED=${SEED}`);
      survey.add(`${found.join('; ')} | ${caller.kind} ${req.method} ${req.op}`);
      if (survey.size < 200) console.log(message);
    }),
    { numRuns: runs, seed: SEED, endOnFailure: SURVEY, verbose: 1 },
  );
  return { runs, statuses, timing, survey: [...survey] };
}

async function remake(fuzz: Fuzz, kind: CallerKind): Promise<Caller> {
  return makeCaller(fuzz.t, fuzz.keeper, kind);
}

/** How many cases each fuzz file runs: FUZZ_RUNS in all, split over the files (default 5,200). */
export function runsPerFile(files: number): number {
  return Math.ceil(Number(process.env.FUZZ_RUNS ?? 5_200) / files);
}
