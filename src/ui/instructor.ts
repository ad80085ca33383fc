import type { UiContext, UiRoute } from './routes.js';

/**
 * PLACEHOLDER owned by the instructor engineer (issue #16): they replace this file with the
 * instructor/trace/probe/step endpoints (POST /api/break, /api/fix, /api/reset, /api/trace,
 * /api/step…, GET /api/scenarios, /api/probe). The server (src/ui/server.ts) mounts whatever this
 * returns; until then it serves none of them.
 */
export function instructorRoutes(ctx: UiContext): UiRoute[] {
  void ctx;
  return [];
}
