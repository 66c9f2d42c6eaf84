/**
 * The web side of a run, started only when runtime.http (or run --http) asks
 * for it, and loaded only then: the token, the metrics over the live state,
 * and the listener serving the page, the API and /metrics. The run's address
 * is recorded in its runs row; the token never is.
 */
import type { HttpSettings } from '../../runtime/spec.ts';
import type { Handlers } from '../control.ts';
import type { EventBus } from '../event-bus.ts';
import type { Logger } from '../logger.ts';
import type { LiveView } from '../registry.ts';
import type { Sampler } from '../sampler.ts';
import { herderMetrics } from './metrics.ts';
import { dashboardPage } from './page.ts';
import { type HttpListener, startHttp } from './server.ts';
import { loadToken } from './token.ts';

export interface WebDeps {
  readonly settings: HttpSettings;
  readonly dbPath: string;
  readonly handlers: Handlers;
  readonly bus: EventBus;
  readonly view: LiveView;
  readonly sampler: Sampler | null;
  readonly logger: Logger;
  readonly deadlineWall: number | null;
}

export async function startWeb(d: WebDeps): Promise<HttpListener & { tokenFile: string }> {
  const token = loadToken(d.settings.tokenFile, d.dbPath);
  let events = 0;
  d.bus.subscribe(() => {
    events++;
  });
  const metrics = herderMetrics({
    view: d.view,
    latest: (name) => d.sampler?.latest(name),
    tally: () => d.logger.tally,
    deadlineWall: d.deadlineWall,
    version: () => ({ state: `${events}:${d.logger.tally.version}`, samples: `${events}:${d.sampler?.rounds ?? 0}` }),
  });
  const page = dashboardPage();
  const listener = await startHttp({
    settings: d.settings,
    token: token.value,
    handlers: d.handlers,
    bus: d.bus,
    metrics,
    view: d.view,
    page: () => page,
  });
  d.logger.http(listener.url);
  return { ...listener, tokenFile: token.file };
}
