/** `herder ctl <status|start|stop|restart|pause|resume> [NAME]`: commands to the live run over its socket. */
import { userInfo } from 'node:os';
import { call, socketPathFor } from '../actors/control.ts';
import type { ControlMethod, ControlParams, ControlResults } from '../actors/control-api.ts';
import { HerderError } from '../runtime/errors.ts';
import { renderActor } from './actor-view.ts';
import { renderStatus } from './render.ts';

export const CTL_OPS = ['status', 'start', 'stop', 'restart', 'pause', 'resume', 'reload', 'shutdown'] as const;

function whoAmI(): string {
  let user = '';
  try {
    user = userInfo().username;
  } catch {
    user = '?';
  }
  return `${user} (uid ${process.getuid?.() ?? '?'}, pid ${process.pid})`;
}

export async function ctlCommand(dbPath: string, op: string, name: string | undefined): Promise<string> {
  if (!(CTL_OPS as readonly string[]).includes(op)) {
    throw new HerderError('HERDER_ERR_ARGS', `herder ctl: unknown command "${op}" (use one of ${CTL_OPS.join(', ')})`);
  }
  if (name !== undefined && ['shutdown', 'reload'].includes(op)) {
    throw new HerderError(
      'HERDER_ERR_ARGS',
      `herder ctl ${op}: takes no actor name (got "${name}"); to steer one actor: ctl start|stop|restart|pause|resume NAME`,
    );
  }
  const socket = socketPathFor(dbPath);
  const live = async <M extends ControlMethod>(method: M, params: ControlParams<M>): Promise<ControlResults[M]> => {
    try {
      return await call(socket, method, params);
    } catch (e) {
      if (e instanceof HerderError && e.code === 'HERDER_ERR_NOT_LIVE') {
        throw new HerderError(
          'HERDER_ERR_NOT_LIVE',
          `herder ctl: no live run answers on ${socket} (start one with \`herder run\`)`,
        );
      }
      throw e;
    }
  };
  if (op === 'status' && name !== undefined) return renderActor(await live('actor', { name }));
  if (op === 'status') return renderStatus(await live('status', {}));
  if (op === 'shutdown') return `${(await live('shutdown', { by: whoAmI() })).detail}\n`;
  if (op === 'reload') {
    const r = await live('reload', { by: whoAmI() });
    if (!r.ok) {
      throw new HerderError('HERDER_ERR_CONFIG', r.lines[0] ?? 'the config is invalid', {
        lines: [...r.lines, 'herder ctl reload: refused; the run goes on unchanged'],
      });
    }
    return `${r.detail}\n`;
  }
  const command = op as 'start' | 'stop' | 'restart' | 'pause' | 'resume';
  if (name === undefined)
    throw new HerderError('HERDER_ERR_ARGS', `herder ctl ${op}: name the actor, or all (herder ctl ${op} NAME)`);
  if (name === 'all') {
    // Every actor that is not a supervisor, in the order status lists them (an actor named "all" wins).
    const doc = await live('status', {});
    if (!doc.actors.some((a) => a.name === 'all')) {
      const lines: string[] = [];
      for (const a of doc.actors.filter((x) => x.kind !== 'supervisor')) {
        if ((op === 'pause' || op === 'resume') && a.kind === 'thread') continue; // threads cannot be paused
        try {
          lines.push((await live(command, { name: a.name, by: whoAmI() })).detail);
        } catch (e) {
          if (!(e instanceof HerderError) || e.code !== 'HERDER_ERR_CONTROL') throw e;
          lines.push(`${a.name}: ${e.message}`);
        }
      }
      return lines.length === 0 ? `no actor to ${op}\n` : `${lines.join('\n')}\n`;
    }
  }
  const r = await live(command, { name, by: whoAmI() });
  return `${r.detail}\n`;
}
