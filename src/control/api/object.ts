import type { FieldValidation } from './validate.js';
import type { ResourceType } from './resources.js';
import { isoTime } from '../time.js';

/**
 * The shape every stored object has (apimachinery's ObjectMeta and TypeMeta),
 * typed where the server reads and writes it; what the schemas allow beyond
 * that stays open. validateObject has already checked the whole object by
 * the time one of these reaches the registry.
 */
export interface ObjectMeta {
  name: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Record<string, any>;
  status?: Record<string, any>;
  [field: string]: unknown;
}

/** A list as GET on a collection answers it (`PodList` …). */
export interface KubeList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string };
  items: KubeObject[];
}

/** The Status a successful DELETE answers. */
export interface DeletedStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Success';
  details: { name: string; group: string; kind: string; uid?: string };
}

/** Which objects a request is about: /…/[namespaces/{namespace}/]{plural}[/{name}[/{sub}]]. */
export interface Target {
  r: ResourceType;
  namespace?: string;
  name?: string;
  sub?: string;
}

/** What a write request asked for besides its body. */
export interface WriteContext {
  fv: FieldValidation;
  /** unknown fields dropped under fieldValidation=Warn, sent back as Warning headers */
  warnings: string[];
  /** ?dryRun=All: validate and answer as if done, store nothing */
  dryRun: boolean;
  /**
   * A last check of the object as it would be stored, by who sent it (RBAC's
   * escalation check on roles and bindings); throws to refuse.
   */
  admit?: (o: KubeObject) => void;
}

/** `services`, or `gatewayclasses.gateway.networking.k8s.io` for a group's resource (as error messages name them). */
export const resourceName = (r: ResourceType): string => (r.group ? `${r.plural}.${r.group}` : r.plural);

export const now = (): string => isoTime();
