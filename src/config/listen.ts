/**
 * Where the HTTP listener binds: "HOST:PORT" ("[::1]:9464" for IPv6), or a
 * bare port on 127.0.0.1. Port 0 picks any free port. Whether the host is
 * loopback decides what may be read without the token.
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** The address, or why it is not one. */
export function parseListen(text: string): ListenAddress | string {
  const s = text.trim();
  let host: string;
  let portText: string;
  if (/^\d+$/.test(s)) {
    host = '127.0.0.1';
    portText = s;
  } else {
    const m = /^\[([0-9a-fA-F:.]+)\]:(\d+)$/.exec(s) ?? /^([^:[\]\s]+):(\d+)$/.exec(s);
    if (m === null) return `"${text}" is not HOST:PORT (as in 127.0.0.1:9464, [::1]:9464, or a bare port)`;
    host = m[1] ?? '';
    portText = m[2] ?? '';
  }
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return `port ${portText} is not between 0 and 65535`;
  if (host !== 'localhost' && isIP(host) === 0) return `"${host}" is not an IP address (or localhost)`;
  return { host, port };
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** As a URL's host part: an IPv6 address in brackets. */
export function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}
