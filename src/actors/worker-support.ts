/**
 * Worker-thread plumbing shared by the logging actor and thread actors: the
 * comlink endpoint for Node's MessagePort/Worker, and the workers' flags.
 */
import type { MessagePort, Worker } from 'node:worker_threads';
import type { Endpoint } from 'comlink';
import nodeEndpointUntyped from 'comlink/dist/umd/node-adapter.js';

type NodeEndpointFn = (nep: MessagePort | Worker) => Endpoint;
export const nodeEndpoint = nodeEndpointUntyped as unknown as NodeEndpointFn;

/**
 * Workers start with no inherited loader flags: their .mjs entries load the
 * TypeScript through tsx's API, which a second loader would only disturb.
 */
export const WORKER_EXEC_ARGV: string[] = [];
