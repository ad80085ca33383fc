/**
 * Which Ingresses this controller implements. An Ingress names its class by
 * spec.ingressClassName (an IngressClass whose spec.controller is ours), by
 * the legacy annotation kubernetes.io/ingress.class (ingress-nginx reads it
 * first when present; podwire takes its value as an IngressClass name, so the
 * lab's IngressClass `nginx` answers both), or not at all — then the
 * IngressClass annotated ingressclass.kubernetes.io/is-default-class: "true"
 * decides (the API server would have written it in at creation; ours may not).
 */
import type { Obj } from '../types.js';
import { asArray, nameOf } from './objects.js';

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export interface IngressClassChoice {
  ours: boolean;
  /** the IngressClass name it resolved to, if any */
  className?: string;
  via: 'annotation' | 'ingressClassName' | 'default' | 'none';
}

export function ingressClassChoice(ing: Obj, classes: Obj[], controller: string): IngressClassChoice {
  const list = asArray(classes);
  const isOurs = (name: string) => list.some((c) => nameOf(c) === name && c.spec?.controller === controller);
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (typeof legacy === 'string' && legacy !== '')
    return { ours: isOurs(legacy), className: legacy, via: 'annotation' };
  const named = ing.spec?.ingressClassName;
  if (typeof named === 'string' && named !== '')
    return { ours: isOurs(named), className: named, via: 'ingressClassName' };
  const defaults = list.filter((c) => c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true');
  const ourDefault = defaults.find((c) => c.spec?.controller === controller);
  if (ourDefault) return { ours: true, className: nameOf(ourDefault), via: 'default' };
  return { ours: false, via: defaults.length ? 'default' : 'none' };
}
