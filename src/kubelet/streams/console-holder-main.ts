// The entry of a container's console holder (console-holder.ts), started by
// the runtime as `node console-holder-main.js --socket … -- argv…`: it loads
// only what the holder needs, not the agent.
import { holderMain } from './console-holder.js';

void holderMain(process.argv.slice(2));
