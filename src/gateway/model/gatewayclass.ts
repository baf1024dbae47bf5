// GatewayClass: ours when spec.controllerName is GATEWAY_CONTROLLER_NAME. We take no parameters,
// so a class with spec.parametersRef is not accepted (InvalidParameters).
import type { KubeObject } from '../../api/types.js';
import { condition } from './conditions.js';
import { generationOf, nameOf, specOf } from './objects.js';
import { GATEWAY_CONTROLLER_NAME, type Condition } from './types.js';

export interface GatewayClassResult {
  /** Conditions of every class whose controllerName is ours. */
  conditions: Map<string, Condition[]>;
  /** Names of our classes that are Accepted. */
  accepted: Set<string>;
}

export function computeGatewayClasses(classes: KubeObject[]): GatewayClassResult {
  const conditions = new Map<string, Condition[]>();
  const accepted = new Set<string>();
  for (const gc of classes) {
    const spec = specOf(gc);
    if (spec.controllerName !== GATEWAY_CONTROLLER_NAME) continue;
    const gen = generationOf(gc);
    const hasParams = spec.parametersRef !== undefined && spec.parametersRef !== null;
    conditions.set(nameOf(gc), [
      hasParams
        ? condition('Accepted', false, 'InvalidParameters', 'flatnet GatewayClasses take no parametersRef; remove spec.parametersRef', gen)
        : condition('Accepted', true, 'Accepted', 'Accepted by flatnet', gen),
      condition('SupportedVersion', true, 'SupportedVersion', 'Gateway API v1 (standard channel)', gen),
    ]);
    if (!hasParams) accepted.add(nameOf(gc));
  }
  return { conditions, accepted };
}
