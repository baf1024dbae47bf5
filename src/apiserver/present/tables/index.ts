// meta.k8s.io/v1 Tables: the printer of each served resource, and the row objects kubectl reads
// for -A (NAMESPACE), --show-labels and -L (PartialObjectMetadata by default).
import type { ResourceInfo } from '../../../api/resources.js';
import type { KubeObject } from '../../../api/types.js';
import { age } from './format.js';
import { deploymentPrinter, replicaSetPrinter } from './apps.js';
import { controllerRevisionPrinter, cronJobPrinter, daemonSetPrinter, jobPrinter, statefulSetPrinter } from './workloads.js';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.js';
import { gatewayPrinters } from './gateway.js';
import { endpointSlicePrinter, ingressClassPrinter, ingressPrinter, leasePrinter, networkPolicyPrinter } from './networking.js';
import { podPrinter } from './pods.js';
import { podDisruptionBudgetPrinter } from './policy.js';
import { rbacPrinters } from '../../rbac/tables.js';
import { customResourceOf } from '../../crd/resource.js';
import { customResourceDefinitionPrinter } from '../../crd/printer.js';
import { ageColumn, nameColumn, type ColumnDefinition, type Printer, type RowCondition, type Cell } from './types.js';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

export interface TableOptions {
  includeObject: IncludeObject;
  /** metadata of the Table: resourceVersion, continue */
  listMeta?: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  /** Leave columnDefinitions empty (watch events after the first, like upstream's NoHeaders). */
  noHeaders?: boolean;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: ColumnDefinition[];
  rows: { cells: Cell[]; conditions?: RowCondition[]; object?: unknown }[];
}

const printers: Record<string, Printer> = {
  '/pods': podPrinter,
  '/services': servicePrinter,
  '/endpoints': endpointsPrinter,
  '/nodes': nodePrinter,
  '/namespaces': namespacePrinter,
  '/configmaps': configMapPrinter,
  '/secrets': secretPrinter,
  '/serviceaccounts': serviceAccountPrinter,
  '/events': eventPrinter,
  'apps/deployments': deploymentPrinter,
  'apps/replicasets': replicaSetPrinter,
  'apps/statefulsets': statefulSetPrinter,
  'apps/daemonsets': daemonSetPrinter,
  'apps/controllerrevisions': controllerRevisionPrinter,
  'batch/jobs': jobPrinter,
  'batch/cronjobs': cronJobPrinter,
  'discovery.k8s.io/endpointslices': endpointSlicePrinter,
  'networking.k8s.io/ingresses': ingressPrinter,
  'networking.k8s.io/ingressclasses': ingressClassPrinter,
  'networking.k8s.io/networkpolicies': networkPolicyPrinter,
  'coordination.k8s.io/leases': leasePrinter,
  'policy/poddisruptionbudgets': podDisruptionBudgetPrinter,
  ...gatewayPrinters,
  ...rbacPrinters,
  'apiextensions.k8s.io/customresourcedefinitions': customResourceDefinitionPrinter,
};

/** NAME and AGE for any resource without its own printer. */
const defaultPrinter: Printer = {
  columns: [nameColumn, ageColumn],
  row: (obj, now) => ({ cells: [obj.metadata?.name ?? '', age(obj.metadata?.creationTimestamp, now)] }),
};

export function printerFor(r: Pick<ResourceInfo, 'group' | 'plural'>): Printer {
  return customResourceOf(r)?.printer ?? printers[`${r.group}/${r.plural}`] ?? defaultPrinter;
}

function rowObject(obj: KubeObject, include: IncludeObject): unknown {
  if (include === 'Object') return obj;
  const { managedFields: _managedFields, ...metadata } = obj.metadata ?? {};
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata };
}

export function buildTable(r: ResourceInfo, objects: KubeObject[], opts: TableOptions, now: number): Table {
  const printer = printerFor(r);
  const metadata: Table['metadata'] = {};
  if (opts.listMeta?.resourceVersion !== undefined) metadata.resourceVersion = opts.listMeta.resourceVersion;
  if (opts.listMeta?.continue) metadata.continue = opts.listMeta.continue;
  if (opts.listMeta?.remainingItemCount !== undefined) metadata.remainingItemCount = opts.listMeta.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows: objects.map((obj) => {
      const printed = printer.row(obj, now);
      const row: Table['rows'][number] = { cells: printed.cells };
      if (printed.conditions) row.conditions = printed.conditions;
      if (opts.includeObject !== 'None') row.object = rowObject(obj, opts.includeObject);
      return row;
    }),
  };
}
