#!/usr/bin/env bash
# Every implemented ECS operation that ecs-awsvpc.sh does not call, with the aws
# CLI: clusters, task definition revisions, container instances registered by
# user data and by register-container-instance, draining, bridge tasks with a
# static host port, start-task, list-tasks filters, tags.
# usage: ACCEPTANCE_LIB=…/shared/acceptance/lib.sh VPCSIM_ENDPOINT=… VPCSIM=… bash ecs-ops.sh   (as root)
source "${ACCEPTANCE_LIB:?path of shared/acceptance/lib.sh}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fails() { ! awsx "$@" >/dev/null 2>&1; }
# first_instance: sets CI_A to the cluster's first container instance, if any
first_instance() { CI_A=$(awsx ecs list-container-instances --cluster ops-demo --query 'containerInstanceArns[0]' --output text) && [[ $CI_A == arn:* ]]; }
instance_running() { [ "$(awsx ec2 describe-instances --instance-ids "$1" --query 'Reservations[0].Instances[0].State.Name' --output text)" = running ]; }

VPC=$(awsx ec2 create-vpc --cidr-block 10.1.0.0/16 --query Vpc.VpcId --output text)
SUB=$(awsx ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.1.0.0/24 --availability-zone us-west-2a --query Subnet.SubnetId --output text)
ARN=arn:aws:ecs:us-west-2:000000000000

# --- Clusters
CLUSTER=$(awsx ecs create-cluster --cluster-name ops-demo --tags key=env,value=test --query cluster.clusterArn --output text)
check "create-cluster" eq "$CLUSTER" "$ARN:cluster/ops-demo"
check "list-clusters" eq "$(awsx ecs list-clusters --query 'clusterArns' --output text)" "$CLUSTER"
dc=$(awsx ecs describe-clusters --clusters ops-demo nope --include TAGS --output json)
check "describe-clusters --include TAGS" eq "$(jq -r '.clusters[0] | .status + " " + .tags[0].key + "=" + .tags[0].value + " " + (.registeredContainerInstancesCount|tostring)' <<<"$dc")" "ACTIVE env=test 0"
check "describe-clusters: an unknown cluster is MISSING" eq "$(jq -r '.failures[0] | .arn + " " + .reason' <<<"$dc")" "$ARN:cluster/nope MISSING"

# --- Task definitions
DEFS='[{"name":"web","image":"nginx:latest","memory":128,"stopTimeout":2,"portMappings":[{"containerPort":80,"hostPort":8080},{"containerPort":9000}]}]'
td=$(awsx ecs register-task-definition --family ops-web --network-mode bridge --container-definitions "$DEFS" --tags key=team,value=cli --output json)
check "register-task-definition: revision 1, ACTIVE" eq "$(jq -r '.taskDefinition | .taskDefinitionArn + " " + .status' <<<"$td")" "$ARN:task-definition/ops-web:1 ACTIVE"
check "register-task-definition fills in cpu 0 and essential" eq "$(jq -r '.taskDefinition.containerDefinitions[0] | "\(.cpu) \(.essential)"' <<<"$td")" "0 true"
check "register-task-definition: host ports 8080 and 0 (dynamic), tcp" eq "$(jq -r '[.taskDefinition.containerDefinitions[0].portMappings[] | "\(.containerPort):\(.hostPort)/\(.protocol)"] | join(" ")' <<<"$td")" "80:8080/tcp 9000:0/tcp"
check "register-task-definition again: revision 2" eq "$(awsx ecs register-task-definition --family ops-web --network-mode bridge --container-definitions "$DEFS" --query taskDefinition.revision)" "2"
check "describe-task-definition FAMILY:1 --include TAGS" eq "$(awsx ecs describe-task-definition --task-definition ops-web:1 --include TAGS --query '[taskDefinition.revision, tags[0].key, tags[0].value]' --output text | tr '\t' ' ')" "1 team cli"
check "list-task-definitions --sort DESC" eq "$(awsx ecs list-task-definitions --family-prefix ops-web --sort DESC --query 'taskDefinitionArns' --output text | tr '\t' ' ')" "$ARN:task-definition/ops-web:2 $ARN:task-definition/ops-web:1"
check "list-task-definition-families" eq "$(awsx ecs list-task-definition-families --family-prefix ops- --query families --output text)" "ops-web"
check "deregister-task-definition: INACTIVE" eq "$(awsx ecs deregister-task-definition --task-definition ops-web:1 --query taskDefinition.status --output text)" "INACTIVE"
out=$(awsx ecs delete-task-definitions --task-definitions ops-web:1 --query 'taskDefinitions[0].status' --output text 2>&1)
if grep -q "Invalid choice" <<<"$out"; then
  echo "skip - delete-task-definitions: this aws-cli ($("$AWSCLI" --version 2>&1 | cut -d' ' -f1)) predates the operation"
else
  check "delete-task-definitions: DELETE_IN_PROGRESS" eq "$out" "DELETE_IN_PROGRESS"
fi

# --- Container instances: one by its user data, one by register-container-instance
printf '#!/bin/bash\necho ECS_CLUSTER=ops-demo >> /etc/ecs/ecs.config\n' > "$work/userdata"
EC2_A=$(awsx ec2 run-instances --image-id ami-0ecsoptimized --instance-type c5.large --subnet-id "$SUB" --user-data "file://$work/userdata" --query 'Instances[0].InstanceId' --output text)
EC2_B=$(awsx ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$SUB" --query 'Instances[0].InstanceId' --output text)
wait_until 180 "container instance registered from user data" first_instance
wait_until 180 "instance without user data running" instance_running "$EC2_B"
reg=$(awsx ecs register-container-instance --cluster ops-demo --instance-identity-document "{\"instanceId\":\"$EC2_B\"}" --output json)
CI_B=$(jq -r .containerInstance.containerInstanceArn <<<"$reg")
check "register-container-instance: ACTIVE, the instance's 2048 CPU" eq "$(jq -r '.containerInstance | .ec2InstanceId + " " + .status + " " + (.registeredResources[] | select(.name=="CPU") | .integerValue | tostring)' <<<"$reg")" "$EC2_B ACTIVE 2048"

# --- Draining: B takes no task, so the second copy of a static-port task fails
check "update-container-instances-state DRAINING" eq "$(awsx ecs update-container-instances-state --cluster ops-demo --container-instances "$CI_B" --status DRAINING --query 'containerInstances[0].status' --output text)" "DRAINING"
check "list-container-instances --status DRAINING" eq "$(awsx ecs list-container-instances --cluster ops-demo --status DRAINING --query containerInstanceArns --output text)" "$CI_B"
run=$(awsx ecs run-task --cluster ops-demo --task-definition ops-web --started-by cli-ops --output json)
TASK_A=$(jq -r '.tasks[0].taskArn' <<<"$run")
check "run-task places the task on the ACTIVE instance" eq "$(jq -r '.tasks[0].containerInstanceArn' <<<"$run")" "$CI_A"
# aws-cli's own run-task and start-task examples: a task with no ENI to make starts PENDING.
check "run-task of a bridge task answers PENDING, as ECS does" eq "$(jq -r '.tasks[0].lastStatus' <<<"$run")" "PENDING"
check "a second copy fails with RESOURCE:PORTS on A (B is DRAINING)" eq "$(awsx ecs run-task --cluster ops-demo --task-definition ops-web --output json | jq -r '"\(.tasks|length) " + ([.failures[] | .arn + " " + .reason] | join(","))')" "0 $CI_A RESOURCE:PORTS"
check "update-container-instances-state ACTIVE" eq "$(awsx ecs update-container-instances-state --cluster ops-demo --container-instances "$CI_B" --status ACTIVE --query 'containerInstances[0].status' --output text)" "ACTIVE"
st=$(awsx ecs start-task --cluster ops-demo --task-definition ops-web --container-instances "$CI_B" --tags key=owner,value=cli --output json)
TASK_B=$(jq -r '.tasks[0].taskArn' <<<"$st")
check "start-task on the named instance" eq "$(jq -r '.tasks[0].containerInstanceArn' <<<"$st")" "$CI_B"

# --- list-tasks filters
check "list-tasks --family" eq "$(awsx ecs list-tasks --cluster ops-demo --family ops-web --query 'length(taskArns)')" "2"
check "list-tasks --started-by" eq "$(awsx ecs list-tasks --cluster ops-demo --started-by cli-ops --query taskArns --output text)" "$TASK_A"
check "list-tasks --container-instance" eq "$(awsx ecs list-tasks --cluster ops-demo --container-instance "$CI_B" --query taskArns --output text)" "$TASK_B"

# --- Tags of a task and of the cluster
check "tag-resource on a task" awsx ecs tag-resource --resource-arn "$TASK_B" --tags key=stage,value=e2e key=owner,value=ops
check "untag-resource on a task" awsx ecs untag-resource --resource-arn "$TASK_B" --tag-keys stage
check "describe-tasks --include TAGS: start-task's tag, overwritten" eq "$(awsx ecs describe-tasks --cluster ops-demo --tasks "$TASK_B" --include TAGS --output json | jq -r '[.tasks[0].tags[] | .key + "=" + .value] | join(",")')" "owner=ops"
check "list-tags-for-resource on the cluster" eq "$(awsx ecs list-tags-for-resource --resource-arn "$CLUSTER" --output json | jq -r '[.tags[] | .key + "=" + .value] | join(",")')" "env=test"

# --- Stopping, and list-tasks --desired-status STOPPED
awsx ecs stop-task --cluster ops-demo --task "$TASK_A" >/dev/null
check "list-tasks --desired-status STOPPED" eq "$(awsx ecs list-tasks --cluster ops-demo --desired-status STOPPED --query taskArns --output text)" "$TASK_A"

# --- deregister-container-instance: refused with a task on it, unless forced
check "deregister-container-instance with a running task, no --force: refused" fails ecs deregister-container-instance --cluster ops-demo --container-instance "$CI_B"
check "deregister-container-instance --force: INACTIVE" eq "$(awsx ecs deregister-container-instance --cluster ops-demo --container-instance "$CI_B" --force --query containerInstance.status --output text)" "INACTIVE"
check "the cluster counts one instance" eq "$(awsx ecs describe-clusters --clusters ops-demo --query 'clusters[0].registeredContainerInstancesCount')" "1"
# ECS developer guide, API failure reasons: StartTask onto a deregistered instance fails INACTIVE.
check "start-task on a deregistered instance fails INACTIVE" eq "$(awsx ecs start-task --cluster ops-demo --task-definition ops-web --container-instances "$CI_B" --query 'failures[0].reason' --output text)" "INACTIVE"
# The server's cleanup takes the instances, their namespaces and the cluster away.
finish
