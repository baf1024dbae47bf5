// What one resource does differently from the generic object machinery, as kube-apiserver's
// registry strategies say it: how a new object is prepared and defaulted, what an update may not
// change, which changes bump metadata.generation, how a delete is answered and when it is done.
// The registry (../registry.ts) asks strategyFor(r) and never branches on the kind itself.
import type { ResourceInfo } from '../../api/resources.js';
import type { KubeObject } from '../../api/types.js';
import type { FieldError } from '../../api/validation/index.js';
import type { Store } from '../../store/types.js';
import type { NameFormat } from '../objects.js';
import type { FieldGetter } from '../selectors.js';
import type { DeleteOptions, Registry, WriteContext } from '../registry.js';
import type { ServiceAllocator } from '../service-allocation.js';

/** What strategies that read or write other objects may use. */
export interface StrategyEnv {
  store: Store;
  registry: Registry;
  services?: ServiceAllocator;
}

/** Cluster-wide resources an object holds while it exists (Service addresses and node ports). */
export type Allocator = Pick<ServiceAllocator, 'allocate' | 'release'>;

/**
 * Which changes bump metadata.generation: any top-level field except `ignores`, plus the named
 * metadata fields (Deployment: annotations; EndpointSlice: labels), as each upstream strategy's
 * PrepareForUpdate compares them.
 */
export interface GenerationRule {
  ignores: readonly string[];
  metadata?: readonly ('labels' | 'annotations')[];
}

/** The subresources an update may go through (undefined: the object itself). */
export type UpdateSubresource = 'status' | 'approval' | 'finalize';

/** How a strategic merge patch is answered: applied, applied as a JSON merge patch, or 415. */
export type StrategicMerge = 'strategic' | 'merge' | 'unsupported';

export interface ResourceStrategy {
  /** The format metadata.name must have. */
  readonly nameFormat: NameFormat;
  /** A PUT of a missing object creates it (upstream's AllowCreateOnUpdate). */
  readonly allowCreateOnUpdate: boolean;
  /** A DELETE that removes the object answers with it instead of a Status (ReturnDeletedObject). */
  readonly returnsDeletedObject: boolean;
  /** undefined: the kind has no metadata.generation (upstream leaves it unset). */
  readonly generation: GenerationRule | undefined;
  readonly strategicMerge: StrategicMerge;
  /** Field selectors beyond the built-in ones (custom resources' selectableFields). */
  readonly selectableFields?: Record<string, FieldGetter>;
  /** Finalizers every delete adds (a CRD waits for its custom resources). */
  readonly deletionFinalizers: readonly string[];
  /** A delete's propagationPolicy Orphan/Foreground adds the orphan/foregroundDeletion finalizer. */
  readonly propagationFinalizers: boolean;

  /** Schema check and pruning of a request body, for kinds not checked against the built-in schemas. */
  decode?(obj: KubeObject): { unknown: string[]; error?: string };
  /** PrepareForCreate: what a client may not set on a new object (status) and what the server adds. */
  prepareForCreate(r: ResourceInfo, obj: KubeObject): void;
  /** PrepareForUpdate on the object itself: what only other endpoints change (status) is kept from `old`. */
  prepareForUpdate(r: ResourceInfo, next: KubeObject, old: KubeObject): void;
  /** PrepareForUpdate of the status subresource: the object stored from the request `body` and the stored `old` (see status.ts). */
  prepareForStatusUpdate(body: KubeObject, old: KubeObject): KubeObject;
  /** PrepareForUpdate of the approval subresource (CertificateSigningRequests): as prepareForStatusUpdate. */
  prepareForApprovalUpdate?(body: KubeObject, old: KubeObject): KubeObject;
  /** Defaulting, on create and on every update of the object. */
  applyDefaults(r: ResourceInfo, obj: KubeObject, creating: boolean): void;
  /** The stored form after defaulting (Endpoints: no empty subsets). */
  canonicalize(obj: KubeObject): void;
  validateCreate(r: ResourceInfo, obj: KubeObject): FieldError[];
  /** `warnings`: what the update passes with but upstream warns about (custom resources: ratcheted CEL rule failures). */
  validateUpdate(r: ResourceInfo, next: KubeObject, old: KubeObject, subresource?: UpdateSubresource, warnings?: string[]): FieldError[];
  /** Admission on create that reads or writes other objects (a pod's ServiceAccount, an Ingress's default class). */
  admitCreate?(env: StrategyEnv, ns: string, obj: KubeObject, ctx: WriteContext): void;
  /** The allocator of what the objects hold, when the server has one. */
  allocator?(env: StrategyEnv): Allocator | undefined;

  /** Refuses a delete outright (the namespaces that always exist). */
  checkDelete?(r: ResourceInfo, obj: KubeObject): void;
  /** CheckGracefulDelete: the grace period a DELETE gives; 0 deletes at once. */
  gracePeriod(obj: KubeObject, options: DeleteOptions): number;
  /** What a delete that leaves the object pending marks on it besides deletionTimestamp (a namespace's phase). */
  prepareForDelete?(obj: KubeObject): void;
  /** With deletionTimestamp set and no metadata.finalizers left: may the object be removed now? */
  deletionComplete(obj: KubeObject): boolean;
}
