/**
 * The peer of issue 15 item 4: a minimal better-auth server, as its own process, for the load
 * bench to measure beside Verity (bench/peer/run.ts builds it to dist/ and starts it). Email
 * and password only, on PostgreSQL through a `pg` Pool (better-auth runs Kysely over it), its
 * schema made by better-auth's own migration API at start. Passwords are hashed with argon2id at Verity's
 * parameters (ARGON2_PARAMS, the JSON of `argon2Params` in src/accounts/password.ts, passed
 * by the runner so that this process does not load Verity's password module and its
 * dictionaries), NFKC-normalised as Verity does, on the libuv thread pool. Rate limiting is
 * off, as RATE_LIMIT=off is for Verity's sign-in; the session cookie cache is left off (its
 * default), so every get-session reads the database as Verity's GET /v1/me does.
 *
 * Environment: DATABASE_URL (a fresh database), PORT, BETTER_AUTH_SECRET, ARGON2_PARAMS.
 * GET /healthz answers 200 once the schema is there; /api/auth/* is better-auth's handler.
 */
import { createServer } from 'node:http';
import { hash, verify, type Options as ArgonOptions } from '@node-rs/argon2';
import { betterAuth } from 'better-auth';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import pg from 'pg';

const need = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const port = Number(need('PORT'));
const baseURL = `http://127.0.0.1:${port}`;
const argon = JSON.parse(need('ARGON2_PARAMS')) as ArgonOptions;
const normalize = (password: string) => password.normalize('NFKC');

const options = {
  baseURL,
  secret: need('BETTER_AUTH_SECRET'),
  // The same pool size as Verity's (src/platform/db/database.ts).
  database: new pg.Pool({ connectionString: need('DATABASE_URL'), max: 10 }),
  emailAndPassword: {
    enabled: true,
    password: {
      hash: (password: string) => hash(normalize(password), argon),
      verify: async ({ hash: stored, password }: { hash: string; password: string }) => {
        try {
          return await verify(stored, normalize(password));
        } catch {
          return false;
        }
      },
    },
  },
  rateLimit: { enabled: false },
  telemetry: { enabled: false },
};

const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);
const handler = toNodeHandler(auth);

createServer((req, res) => {
  if (req.url === '/healthz') {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  handler(req, res).catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
}).listen(port, '127.0.0.1');
