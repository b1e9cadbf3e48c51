import type { FastifyInstance } from 'fastify';

/** Every route path the app answers for one method, read from Fastify's route tree. */
export function routesFor(app: FastifyInstance, method: string): string[] {
  const tree = app.printRoutes({ commonPrefix: false, method: method as 'POST' });
  const stack: string[] = [];
  const paths: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (\S+)(?: \(([^)]*)\))?/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    if (match[3]?.split(',').map((m) => m.trim()).includes(method)) paths.push(stack.join(''));
  }
  return paths;
}

/** Every [method, path] of the app, but the documentation UI and static files. */
export function allRoutes(app: FastifyInstance): Array<readonly [string, string]> {
  return ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].flatMap((method) =>
    routesFor(app, method)
      .filter((path) => !path.startsWith('/docs') && !path.startsWith('/static'))
      .map((path) => [method, path] as const),
  );
}

/** A path with its parameters filled in by `fill(name)` (already URL-encoded). */
export function concrete(path: string, fill: (name: string) => string): string {
  return path.replace(/:(\w+)/g, (_m, name: string) => fill(name));
}
