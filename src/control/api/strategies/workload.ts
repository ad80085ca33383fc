import type { Strategy } from './strategy.js';

/** Deployments and StatefulSets: status is their controller's to write, never the creator's. */
export const workloadStrategy: Strategy = {
  prepareForCreate(o) {
    delete o.status;
  },
};
