package ecsjson

import "github.com/vpcsim/vpcsim/ecsapi"

// actions is the dispatch table: every ECS operation the domain implements. An
// operation of the model that is not here answers UnsupportedFeatureException.
var actions = map[string]action{
	"CreateCluster":                 op((*ecsapi.Service).CreateCluster),
	"DescribeClusters":              op((*ecsapi.Service).DescribeClusters),
	"ListClusters":                  op((*ecsapi.Service).ListClusters),
	"DeleteCluster":                 op((*ecsapi.Service).DeleteCluster),
	"RegisterTaskDefinition":        op((*ecsapi.Service).RegisterTaskDefinition),
	"DescribeTaskDefinition":        op((*ecsapi.Service).DescribeTaskDefinition),
	"ListTaskDefinitions":           op((*ecsapi.Service).ListTaskDefinitions),
	"ListTaskDefinitionFamilies":    op((*ecsapi.Service).ListTaskDefinitionFamilies),
	"DeregisterTaskDefinition":      op((*ecsapi.Service).DeregisterTaskDefinition),
	"DeleteTaskDefinitions":         op((*ecsapi.Service).DeleteTaskDefinitions),
	"RegisterContainerInstance":     op((*ecsapi.Service).RegisterContainerInstance),
	"DeregisterContainerInstance":   op((*ecsapi.Service).DeregisterContainerInstance),
	"DescribeContainerInstances":    op((*ecsapi.Service).DescribeContainerInstances),
	"ListContainerInstances":        op((*ecsapi.Service).ListContainerInstances),
	"UpdateContainerInstancesState": op((*ecsapi.Service).UpdateContainerInstancesState),
	"RunTask":                       op((*ecsapi.Service).RunTask),
	"StartTask":                     op((*ecsapi.Service).StartTask),
	"DescribeTasks":                 op((*ecsapi.Service).DescribeTasks),
	"ListTasks":                     op((*ecsapi.Service).ListTasks),
	"StopTask":                      op((*ecsapi.Service).StopTask),
	"CreateService":                 op((*ecsapi.Service).CreateService),
	"DescribeServices":              op((*ecsapi.Service).DescribeServices),
	"ListServices":                  op((*ecsapi.Service).ListServices),
	"UpdateService":                 op((*ecsapi.Service).UpdateService),
	"DeleteService":                 op((*ecsapi.Service).DeleteService),
	"ListServiceDeployments":        op((*ecsapi.Service).ListServiceDeployments),
	"DescribeServiceDeployments":    op((*ecsapi.Service).DescribeServiceDeployments),
	"DescribeServiceRevisions":      op((*ecsapi.Service).DescribeServiceRevisions),
	"StopServiceDeployment":         op((*ecsapi.Service).StopServiceDeployment),
	"PutAttributes":                 op((*ecsapi.Service).PutAttributes),
	"DeleteAttributes":              op((*ecsapi.Service).DeleteAttributes),
	"ListAttributes":                op((*ecsapi.Service).ListAttributes),
	"TagResource":                   op((*ecsapi.Service).TagResource),
	"UntagResource":                 op((*ecsapi.Service).UntagResource),
	"ListTagsForResource":           op((*ecsapi.Service).ListTagsForResource),
}
