/** The kubelet's public entry. */
export { launchFor, parseImage, MAX_WORKLOAD_PORTS } from './images.js';
export type { ContainerSpecLite, ContainerPortLite, ContainerLaunch, WorkloadTools, ImageRef } from './images.js';
