// Worker entry of the logging actor. Node 20 does not apply tsx's --import
// hook to a worker's entry module, so the TypeScript is loaded through tsx's API.
import { tsImport } from 'tsx/esm/api';

await tsImport('./logger-worker.ts', import.meta.url);
