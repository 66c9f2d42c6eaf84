// Worker entry of a thread actor (piscina's filename). Node 20 does not apply
// tsx's --import hook to a worker's entry module, so the TypeScript is loaded
// through tsx's API; piscina calls the default export once per run.
import { tsImport } from 'tsx/esm/api';

const mod = await tsImport('./thread-worker.ts', import.meta.url);
export default mod.default;
