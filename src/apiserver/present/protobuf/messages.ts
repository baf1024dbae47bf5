// The protobuf messages flatnet decodes from kubectl's `create <generator>` bodies, with field
// numbers from upstream's generated.proto files (k8s.io/api and apimachinery v0.32.4).
//
// Each field is `jsonName=number:type[:flags]`:
//   type  string | int32 | int64 | bool | bytes | <Message> | []<type> (repeated) | map<string|bytes|Quantity>
//   flags k = keep a zero value (a pointer or a field without omitempty in Go's JSON)
//         i = inline: the message's fields are embedded in the parent's JSON (json:",inline")
// Special messages: Time and MicroTime become RFC 3339 strings, IntOrString a number or string,
// Quantity a string.

export const MESSAGES: Record<string, string> = {
  // runtime
  Unknown: 'typeMeta=1:TypeMeta raw=2:bytes contentEncoding=3:string contentType=4:string',
  TypeMeta: 'apiVersion=1:string kind=2:string',
  // apimachinery
  Time: 'seconds=1:int64 nanos=2:int32',
  MicroTime: 'seconds=1:int64 nanos=2:int32',
  IntOrString: 'type=1:int64 intVal=2:int32 strVal=3:string',
  Quantity: 'string=1:string',
  ObjectMeta:
    'name=1:string generateName=2:string namespace=3:string selfLink=4:string uid=5:string resourceVersion=6:string ' +
    'generation=7:int64 creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:int64:k ' +
    'labels=11:map<string> annotations=12:map<string> ownerReferences=13:[]OwnerReference finalizers=14:[]string ' +
    'managedFields=17:[]ManagedFieldsEntry',
  OwnerReference: 'apiVersion=5:string:k kind=1:string:k name=3:string:k uid=4:string:k controller=6:bool:k blockOwnerDeletion=7:bool:k',
  ManagedFieldsEntry: 'manager=1:string operation=2:string apiVersion=3:string time=4:Time fieldsType=6:string fieldsV1=7:FieldsV1 subresource=8:string',
  FieldsV1: 'raw=1:bytes',
  LabelSelector: 'matchLabels=1:map<string> matchExpressions=2:[]LabelSelectorRequirement',
  LabelSelectorRequirement: 'key=1:string:k operator=2:string:k values=3:[]string',
  Condition: 'type=1:string:k status=2:string:k observedGeneration=3:int64 lastTransitionTime=4:Time reason=5:string:k message=6:string:k',
  // apps/v1
  Deployment: 'metadata=1:ObjectMeta spec=2:DeploymentSpec status=3:DeploymentStatus',
  DeploymentSpec:
    'replicas=1:int32:k selector=2:LabelSelector template=3:PodTemplateSpec strategy=4:DeploymentStrategy ' +
    'minReadySeconds=5:int32 revisionHistoryLimit=6:int32:k paused=7:bool progressDeadlineSeconds=9:int32:k',
  DeploymentStrategy: 'type=1:string rollingUpdate=2:RollingUpdateDeployment',
  RollingUpdateDeployment: 'maxUnavailable=1:IntOrString maxSurge=2:IntOrString',
  DeploymentStatus:
    'observedGeneration=1:int64 replicas=2:int32 updatedReplicas=3:int32 readyReplicas=7:int32 availableReplicas=4:int32 ' +
    'unavailableReplicas=5:int32 conditions=6:[]DeploymentCondition collisionCount=8:int32:k',
  DeploymentCondition: 'type=1:string:k status=2:string:k lastUpdateTime=6:Time lastTransitionTime=7:Time reason=4:string message=5:string',
  // core/v1 pods
  PodTemplateSpec: 'metadata=1:ObjectMeta spec=2:PodSpec',
  PodSpec:
    'volumes=1:[]Volume initContainers=20:[]Container containers=2:[]Container restartPolicy=3:string ' +
    'terminationGracePeriodSeconds=4:int64:k activeDeadlineSeconds=5:int64:k dnsPolicy=6:string nodeSelector=7:map<string> ' +
    'serviceAccountName=8:string serviceAccount=9:string automountServiceAccountToken=21:bool:k nodeName=10:string ' +
    'hostNetwork=11:bool hostPID=12:bool hostIPC=13:bool shareProcessNamespace=27:bool:k imagePullSecrets=15:[]LocalObjectReference ' +
    'hostname=16:string subdomain=17:string schedulerName=19:string tolerations=22:[]Toleration priorityClassName=24:string ' +
    'priority=25:int32:k enableServiceLinks=30:bool:k preemptionPolicy=31:string setHostnameAsFQDN=35:bool:k hostUsers=37:bool:k',
  Container:
    'name=1:string:k image=2:string command=3:[]string args=4:[]string workingDir=5:string ports=6:[]ContainerPort ' +
    'envFrom=19:[]EnvFromSource env=7:[]EnvVar resources=8:ResourceRequirements restartPolicy=24:string:k ' +
    'volumeMounts=9:[]VolumeMount terminationMessagePath=13:string terminationMessagePolicy=20:string imagePullPolicy=14:string ' +
    'stdin=16:bool stdinOnce=17:bool tty=18:bool',
  ContainerPort: 'name=1:string hostPort=2:int32 containerPort=3:int32:k protocol=4:string hostIP=5:string',
  EnvVar: 'name=1:string:k value=2:string valueFrom=3:EnvVarSource',
  EnvVarSource: 'fieldRef=1:ObjectFieldSelector resourceFieldRef=2:ResourceFieldSelector configMapKeyRef=3:ConfigMapKeySelector secretKeyRef=4:SecretKeySelector',
  ObjectFieldSelector: 'apiVersion=1:string fieldPath=2:string:k',
  ResourceFieldSelector: 'containerName=1:string resource=2:string:k divisor=3:Quantity',
  ConfigMapKeySelector: 'localObjectReference=1:LocalObjectReference:i key=2:string:k optional=3:bool:k',
  SecretKeySelector: 'localObjectReference=1:LocalObjectReference:i key=2:string:k optional=3:bool:k',
  EnvFromSource: 'prefix=1:string configMapRef=2:ConfigMapEnvSource secretRef=3:SecretEnvSource',
  ConfigMapEnvSource: 'localObjectReference=1:LocalObjectReference:i optional=2:bool:k',
  SecretEnvSource: 'localObjectReference=1:LocalObjectReference:i optional=2:bool:k',
  LocalObjectReference: 'name=1:string',
  ResourceRequirements: 'limits=1:map<Quantity> requests=2:map<Quantity> claims=3:[]ResourceClaim',
  ResourceClaim: 'name=1:string:k request=2:string',
  VolumeMount: 'name=1:string:k readOnly=2:bool recursiveReadOnly=7:string:k mountPath=3:string:k subPath=4:string mountPropagation=5:string:k subPathExpr=6:string',
  Volume: 'name=1:string:k',
  Toleration: 'key=1:string operator=2:string value=3:string effect=4:string tolerationSeconds=5:int64:k',
  // core/v1 services
  Service: 'metadata=1:ObjectMeta spec=2:ServiceSpec status=3:ServiceStatus',
  ServiceSpec:
    'ports=1:[]ServicePort selector=2:map<string> clusterIP=3:string clusterIPs=18:[]string type=4:string externalIPs=5:[]string ' +
    'sessionAffinity=7:string loadBalancerIP=8:string loadBalancerSourceRanges=9:[]string externalName=10:string ' +
    'externalTrafficPolicy=11:string healthCheckNodePort=12:int32 publishNotReadyAddresses=13:bool ' +
    'sessionAffinityConfig=14:SessionAffinityConfig ipFamilies=19:[]string ipFamilyPolicy=17:string:k ' +
    'allocateLoadBalancerNodePorts=20:bool:k loadBalancerClass=21:string:k internalTrafficPolicy=22:string:k trafficDistribution=23:string:k',
  ServicePort: 'name=1:string protocol=2:string appProtocol=6:string:k port=3:int32:k targetPort=4:IntOrString nodePort=5:int32',
  SessionAffinityConfig: 'clientIP=1:ClientIPConfig',
  ClientIPConfig: 'timeoutSeconds=1:int32:k',
  ServiceStatus: 'loadBalancer=1:LoadBalancerStatus conditions=2:[]Condition',
  LoadBalancerStatus: 'ingress=1:[]LoadBalancerIngress',
  LoadBalancerIngress: 'ip=1:string hostname=2:string ipMode=3:string:k ports=4:[]PortStatus',
  PortStatus: 'port=1:int32:k protocol=2:string:k error=3:string:k',
  // core/v1 config
  ConfigMap: 'metadata=1:ObjectMeta immutable=4:bool:k data=2:map<string> binaryData=3:map<bytes>',
  Secret: 'metadata=1:ObjectMeta immutable=5:bool:k data=2:map<bytes> stringData=4:map<string> type=3:string',
  ServiceAccount: 'metadata=1:ObjectMeta secrets=2:[]ObjectReference imagePullSecrets=3:[]LocalObjectReference automountServiceAccountToken=4:bool:k',
  ObjectReference: 'kind=1:string namespace=2:string name=3:string uid=4:string apiVersion=5:string resourceVersion=6:string fieldPath=7:string',
  Namespace: 'metadata=1:ObjectMeta spec=2:NamespaceSpec status=3:NamespaceStatus',
  NamespaceSpec: 'finalizers=1:[]string',
  NamespaceStatus: 'phase=1:string conditions=2:[]NamespaceCondition',
  NamespaceCondition: 'type=1:string:k status=2:string:k lastTransitionTime=4:Time reason=5:string message=6:string',
  // networking.k8s.io/v1
  Ingress: 'metadata=1:ObjectMeta spec=2:IngressSpec status=3:IngressStatus',
  IngressSpec: 'ingressClassName=4:string:k defaultBackend=1:IngressBackend tls=2:[]IngressTLS rules=3:[]IngressRule',
  IngressTLS: 'hosts=1:[]string secretName=2:string',
  IngressRule: 'host=1:string ingressRuleValue=2:IngressRuleValue:i',
  IngressRuleValue: 'http=1:HTTPIngressRuleValue',
  HTTPIngressRuleValue: 'paths=1:[]HTTPIngressPath',
  HTTPIngressPath: 'path=1:string pathType=3:string:k backend=2:IngressBackend',
  IngressBackend: 'service=4:IngressServiceBackend resource=3:TypedLocalObjectReference',
  IngressServiceBackend: 'name=1:string:k port=2:ServiceBackendPort',
  ServiceBackendPort: 'name=1:string number=2:int32',
  TypedLocalObjectReference: 'apiGroup=1:string:k kind=2:string:k name=3:string:k',
  IngressStatus: 'loadBalancer=1:IngressLoadBalancerStatus',
  IngressLoadBalancerStatus: 'ingress=1:[]IngressLoadBalancerIngress',
  IngressLoadBalancerIngress: 'ip=1:string hostname=2:string ports=4:[]PortStatus',
};

/** The top-level kinds a protobuf body may carry, by apiVersion/kind. */
export const DECODABLE_KINDS: Record<string, string> = {
  'apps/v1/Deployment': 'Deployment',
  'v1/Service': 'Service',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Namespace': 'Namespace',
  'v1/ServiceAccount': 'ServiceAccount',
  'networking.k8s.io/v1/Ingress': 'Ingress',
};
