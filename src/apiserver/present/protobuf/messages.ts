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
  // batch/v1
  Job: 'metadata=1:ObjectMeta spec=2:JobSpec status=3:JobStatus',
  JobSpec:
    'parallelism=1:int32:k completions=2:int32:k activeDeadlineSeconds=3:int64:k backoffLimit=7:int32:k ' +
    'backoffLimitPerIndex=12:int32:k maxFailedIndexes=13:int32:k selector=4:LabelSelector manualSelector=5:bool:k ' +
    'template=6:PodTemplateSpec ttlSecondsAfterFinished=8:int32:k completionMode=9:string:k suspend=10:bool:k ' +
    'podReplacementPolicy=14:string:k managedBy=15:string:k',
  JobStatus:
    'conditions=1:[]JobCondition startTime=2:Time completionTime=3:Time active=4:int32 succeeded=5:int32 failed=6:int32 ' +
    'terminating=11:int32:k completedIndexes=7:string failedIndexes=10:string:k ready=9:int32:k',
  JobCondition: 'type=1:string:k status=2:string:k lastProbeTime=3:Time lastTransitionTime=4:Time reason=5:string message=6:string',
  CronJob: 'metadata=1:ObjectMeta spec=2:CronJobSpec status=3:CronJobStatus',
  CronJobSpec:
    'schedule=1:string:k timeZone=8:string:k startingDeadlineSeconds=2:int64:k concurrencyPolicy=3:string suspend=4:bool:k ' +
    'jobTemplate=5:JobTemplateSpec successfulJobsHistoryLimit=6:int32:k failedJobsHistoryLimit=7:int32:k',
  JobTemplateSpec: 'metadata=1:ObjectMeta spec=2:JobSpec',
  CronJobStatus: 'active=1:[]ObjectReference lastScheduleTime=4:Time lastSuccessfulTime=5:Time',
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
  // authentication.k8s.io/v1 and authorization.k8s.io/v1 (kubectl create token, auth whoami, auth can-i)
  TokenRequest: 'metadata=1:ObjectMeta spec=2:TokenRequestSpec status=3:TokenRequestStatus',
  TokenRequestSpec: 'audiences=1:[]string expirationSeconds=4:int64:k boundObjectRef=3:BoundObjectReference',
  BoundObjectReference: 'kind=1:string apiVersion=2:string name=3:string uid=4:string',
  TokenRequestStatus: 'token=1:string:k expirationTimestamp=2:Time',
  SelfSubjectReview: 'metadata=1:ObjectMeta status=2:SelfSubjectReviewStatus',
  SelfSubjectReviewStatus: 'userInfo=1:UserInfo',
  UserInfo: 'username=1:string uid=2:string groups=3:[]string',
  TokenReview: 'metadata=1:ObjectMeta spec=2:TokenReviewSpec status=3:TokenReviewStatus',
  TokenReviewStatus: 'authenticated=1:bool user=2:UserInfo error=3:string audiences=4:[]string',
  TokenReviewSpec: 'token=1:string audiences=2:[]string',
  SelfSubjectAccessReview: 'metadata=1:ObjectMeta spec=2:SelfSubjectAccessReviewSpec status=3:SubjectAccessReviewStatus',
  SubjectAccessReviewStatus: 'allowed=1:bool:k reason=2:string evaluationError=3:string denied=4:bool',
  SelfSubjectAccessReviewSpec: 'resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes',
  ResourceAttributes: 'namespace=1:string verb=2:string group=3:string version=4:string resource=5:string subresource=6:string name=7:string',
  NonResourceAttributes: 'path=1:string verb=2:string',
  SelfSubjectRulesReview: 'metadata=1:ObjectMeta spec=2:SelfSubjectRulesReviewSpec status=3:SubjectRulesReviewStatus',
  SubjectRulesReviewStatus: 'resourceRules=1:[]ResourceRule nonResourceRules=2:[]NonResourceRule incomplete=3:bool:k evaluationError=4:string',
  ResourceRule: 'verbs=1:[]string apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string',
  NonResourceRule: 'verbs=1:[]string nonResourceURLs=2:[]string',
  SelfSubjectRulesReviewSpec: 'namespace=1:string',
  SubjectAccessReview: 'metadata=1:ObjectMeta spec=2:SubjectAccessReviewSpec status=3:SubjectAccessReviewStatus',
  SubjectAccessReviewSpec: 'resourceAttributes=1:ResourceAttributes nonResourceAttributes=2:NonResourceAttributes user=3:string groups=4:[]string uid=6:string',
  // rbac.authorization.k8s.io/v1 (kubectl create role/clusterrole/rolebinding/clusterrolebinding)
  Role: 'metadata=1:ObjectMeta rules=2:[]PolicyRule',
  ClusterRole: 'metadata=1:ObjectMeta rules=2:[]PolicyRule aggregationRule=3:AggregationRule',
  PolicyRule: 'verbs=1:[]string apiGroups=2:[]string resources=3:[]string resourceNames=4:[]string nonResourceURLs=5:[]string',
  AggregationRule: 'clusterRoleSelectors=1:[]LabelSelector',
  RoleBinding: 'metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef',
  ClusterRoleBinding: 'metadata=1:ObjectMeta subjects=2:[]Subject roleRef=3:RoleRef',
  Subject: 'kind=1:string apiGroup=2:string name=3:string namespace=4:string',
  RoleRef: 'apiGroup=1:string kind=2:string name=3:string',
};

/** The top-level kinds a protobuf body may carry, by apiVersion/kind. */
export const DECODABLE_KINDS: Record<string, string> = {
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'batch/v1/CronJob': 'CronJob',
  'v1/Service': 'Service',
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Namespace': 'Namespace',
  'v1/ServiceAccount': 'ServiceAccount',
  'networking.k8s.io/v1/Ingress': 'Ingress',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  'authentication.k8s.io/v1/TokenReview': 'TokenReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'SubjectAccessReview',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
};
