/** src/lb's only public entry: the Service load balancer. */
export * from './types.js';
export * from './compile.js';
export * from './service-table.js';
export * from './linear.js';
export * from './schedulers.js';
export * from './maglev.js';
export * from './flow-hash.js';
export * from './conntrack.js';
