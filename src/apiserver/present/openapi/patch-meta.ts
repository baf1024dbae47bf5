// Patch strategies and list types of built-in fields (struct tags and +listType markers of
// k8s.io/api v0.32.4 and apimachinery meta/v1). kubectl's client-side apply computes strategic
// merge patches from the x-kubernetes-patch-* extensions built from this table, so it must match
// upstream: a field missing here is an atomic list (replaced whole), as upstream.

export interface FieldPatchMeta {
  strategy?: string;
  key?: string;
  listType?: 'map' | 'set' | 'atomic';
  mapKeys?: string[];
}

/** Keyed by `<Go type name>.<json field name>`. */
export const FIELD_PATCH_META: Record<string, FieldPatchMeta> = {
  'ObjectMeta.ownerReferences': { strategy: 'merge', key: 'uid', listType: 'map', mapKeys: ['uid'] },
  'ObjectMeta.finalizers': { strategy: 'merge', listType: 'set' },
  'PersistentVolumeClaimStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'ResourceRequirements.claims': { listType: 'map', mapKeys: ['name'] },
  'Container.ports': { strategy: 'merge', key: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
  'Container.env': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'Container.volumeMounts': { strategy: 'merge', key: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
  'Container.volumeDevices': { strategy: 'merge', key: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  'ContainerStatus.volumeMounts': { strategy: 'merge', key: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
  'ContainerStatus.allocatedResourcesStatus': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'ResourceStatus.resources': { listType: 'map', mapKeys: ['resourceID'] },
  'PodSpec.volumes': { strategy: 'merge,retainKeys', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.initContainers': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.containers': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.ephemeralContainers': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.imagePullSecrets': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.hostAliases': { strategy: 'merge', key: 'ip', listType: 'map', mapKeys: ['ip'] },
  'PodSpec.topologySpreadConstraints': { strategy: 'merge', key: 'topologyKey', listType: 'map', mapKeys: ['topologyKey', 'whenUnsatisfiable'] },
  'PodSpec.schedulingGates': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'PodSpec.resourceClaims': { strategy: 'merge,retainKeys', key: 'name', listType: 'map', mapKeys: ['name'] },
  'EphemeralContainer.ports': { strategy: 'merge', key: 'containerPort', listType: 'map', mapKeys: ['containerPort', 'protocol'] },
  'EphemeralContainer.env': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'EphemeralContainer.volumeMounts': { strategy: 'merge', key: 'mountPath', listType: 'map', mapKeys: ['mountPath'] },
  'EphemeralContainer.volumeDevices': { strategy: 'merge', key: 'devicePath', listType: 'map', mapKeys: ['devicePath'] },
  'PodStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'PodStatus.hostIPs': { strategy: 'merge', key: 'ip', listType: 'atomic' },
  'PodStatus.podIPs': { strategy: 'merge', key: 'ip', listType: 'map', mapKeys: ['ip'] },
  'PodStatus.resourceClaimStatuses': { strategy: 'merge,retainKeys', key: 'name', listType: 'map', mapKeys: ['name'] },
  'ReplicationControllerStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'ServiceStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'ServiceSpec.ports': { strategy: 'merge', key: 'port', listType: 'map', mapKeys: ['port', 'protocol'] },
  'ServiceAccount.secrets': { strategy: 'merge', key: 'name', listType: 'map', mapKeys: ['name'] },
  'NodeSpec.podCIDRs': { strategy: 'merge', listType: 'set' },
  'NodeStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'NodeStatus.addresses': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'NamespaceStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'ComponentStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'StatefulSetStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'DeploymentSpec.strategy': { strategy: 'retainKeys' },
  'DeploymentStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'DaemonSetStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'ReplicaSetStatus.conditions': { strategy: 'merge', key: 'type', listType: 'map', mapKeys: ['type'] },
  'JobStatus.conditions': { strategy: 'merge', key: 'type', listType: 'atomic' },
  'CronJobStatus.active': { listType: 'atomic' },
  'Endpoint.addresses': { listType: 'set' },
};
