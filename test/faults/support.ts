import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort, type ServerProcess } from '../helpers/process.js';

/**
 * What the fault tests share: their OWN PostgreSQL and Redis (never the machine's shared
 * ones, which other runs use), an SMTP server that can go down and come back on its port,
 * and small waits over a real server process.
 */

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** Runs a PostgreSQL binary as the `postgres` OS user (initdb and postgres refuse root). */
function asPostgres(command: string, args: string[]): string {
  const asRoot = process.getuid?.() === 0;
  const file = asRoot ? 'runuser' : join(PG_BIN, command);
  const argv = asRoot ? ['-u', 'postgres', '--', join(PG_BIN, command), ...args] : args;
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A PostgreSQL 15 cluster of our own in a temp folder, on a free port, trust auth. */
export class OwnPostgres {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async create(): Promise<OwnPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'verity-pg-'));
    if (process.getuid?.() === 0) {
      chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
    }
    chmodSync(dir, 0o700);
    asPostgres('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8']);
    const pg = new OwnPostgres(dir, await freePort());
    pg.start();
    return pg;
  }

  start(): void {
    asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-l', join(this.dir, 'log'), '-w', '-t', '60', '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off`, 'start']);
  }

  /** A fast stop: sessions are ended, new connections refused (what a restart or failover does). */
  stop(): void {
    asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-w', '-t', '60', '-m', 'fast', 'stop']);
  }

  destroy(): void {
    try {
      asPostgres('pg_ctl', ['-D', join(this.dir, 'data'), '-w', '-t', '60', '-m', 'immediate', 'stop']);
    } catch {
      // Already stopped.
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A redis-server of our own on a free port, without persistence; it can be killed and started again on its port. */
export class OwnRedis {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.start();
    return redis;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${out}`)));
    });
  }

  /** kill -9: the connection drops without a word. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
}

/** An SMTP server that keeps every message, and can stop listening and listen again on its port. */
export class Smtp {
  readonly received: ParsedMail[] = [];
  /** Milliseconds each message waits before the server accepts it (a slow provider). */
  delayMs = 0;
  /** Messages whose data has started to arrive (accepted or not yet). */
  arriving = 0;
  private server: SMTPServer | undefined;

  private constructor(readonly port: number) {}

  /** A port for SMTP_URL; nothing listens until up(). */
  static async reserve(): Promise<Smtp> {
    return new Smtp(await freePort());
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async up(): Promise<void> {
    const server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData: (stream, _session, callback) => {
        this.arriving += 1;
        simpleParser(stream)
          .then(async (mail) => {
            if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
            this.received.push(mail);
            callback();
          })
          .catch(callback);
      },
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Messages carrying X-Verity-Message-Id, by that id: more than one copy of an id is a double send. */
  copiesById(): Map<string, number> {
    const copies = new Map<string, number>();
    for (const mail of this.received) {
      const id = String(mail.headers.get('x-verity-message-id') ?? '');
      copies.set(id, (copies.get(id) ?? 0) + 1);
    }
    return copies;
  }

  to(address: string): ParsedMail[] {
    return this.received.filter((m) => {
      const to = Array.isArray(m.to) ? m.to : m.to ? [m.to] : [];
      return to.some((a) => a.value.some((v) => v.address?.toLowerCase() === address.toLowerCase()));
    });
  }
}

/** Polls `check` until it returns something other than undefined, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms: number, everyMs = 100, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await check();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms ${detail()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One metric's value from the server's /metrics (labels as written, e.g. `{channel="sms",result="sent"}`), 0 when absent. */
export async function metric(server: Pick<ServerProcess, 'base'>, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${server.base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ')[1]) : 0;
}

/** The server's JSON log lines. */
export function logLines(server: Pick<ServerProcess, 'stdout'>): Array<Record<string, unknown>> {
  return server
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function post(base: string, path: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
}

export const PASSWORD = 'correct horse battery staple';

/** A sign-up body for a unique member. */
export function member(tag: string) {
  return { email: `${tag}@example.com`, username: tag, password: PASSWORD, country: 'PH', roles: ['client'] };
}
