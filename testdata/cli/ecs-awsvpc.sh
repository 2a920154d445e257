#!/usr/bin/env bash
# ECS in awsvpc mode with the aws CLI, as the seed walks it, and the kernel
# objects behind it: each task's ENI is eth0 of its own namespace, at its own IP.
# usage: ACCEPTANCE_LIB=…/shared/acceptance/lib.sh VPCSIM_ENDPOINT=… VPCSIM=… bash ecs-awsvpc.sh   (as root)
here=$(cd "$(dirname "$0")" && pwd); source "${ACCEPTANCE_LIB:?path of shared/acceptance/lib.sh}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

VPC=$(awsx ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text)
SUB=$(awsx ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.0.0.0/24 --availability-zone us-west-2a --query Subnet.SubnetId --output text)
SG=$(awsx ec2 create-security-group --vpc-id "$VPC" --group-name awsvpc-demo-80 --description "port 80 only" --query GroupId --output text)
awsx ec2 authorize-security-group-ingress --group-id "$SG" --protocol tcp --port 80 --cidr 0.0.0.0/0 >/dev/null

check "create-cluster" eq "$(awsx ecs create-cluster --cluster-name awsvpc-demo --query cluster.status --output text)" "ACTIVE"
printf '#!/bin/bash\necho ECS_CLUSTER=awsvpc-demo >> /etc/ecs/ecs.config\n' > "$work/userdata"
INST=$(awsx ec2 run-instances --image-id ami-0ecsoptimized --instance-type c5.large --subnet-id "$SUB" --user-data "file://$work/userdata" --query 'Instances[0].InstanceId' --output text)
CLIENT=$(awsx ec2 run-instances --image-id ami-12345678 --instance-type t3.micro --subnet-id "$SUB" --query 'Instances[0].InstanceId' --output text)
wait_until 180 "container instance registered" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs list-container-instances --cluster awsvpc-demo --query 'length(containerInstanceArns)')\" = 1 ]"
CI=$(awsx ecs list-container-instances --cluster awsvpc-demo --query 'containerInstanceArns[0]' --output text)
check "container instance offers 2048 CPU" eq "$(awsx ecs describe-container-instances --cluster awsvpc-demo --container-instances "$CI" --query "containerInstances[0].registeredResources[?name=='CPU'].integerValue | [0]")" "2048"
check "container instance can take awsvpc tasks" eq "$(awsx ecs describe-container-instances --cluster awsvpc-demo --container-instances "$CI" --query "length(containerInstances[0].attributes[?name=='ecs.capability.task-eni'])")" "1"

check "register-task-definition" eq "$(awsx ecs register-task-definition --cli-input-json "file://$here/../taskdefs/nginx-awsvpc.json" --query 'taskDefinition.[networkMode,revision]' --output text | tr '\t' ' ')" "awsvpc 1"
expect_error InvalidParameterException "awsvpc without a network configuration" ecs run-task --cluster awsvpc-demo --task-definition nginx-awsvpc
expect_error ClusterNotFoundException "unknown cluster" ecs run-task --cluster nope --task-definition nginx-awsvpc

NET="awsvpcConfiguration={subnets=[\"$SUB\"],securityGroups=[\"$SG\"]}"
run=$(awsx ecs run-task --cluster awsvpc-demo --network-configuration "$NET" --task-definition nginx-awsvpc --output json)
TASK=$(jq -r '.tasks[0].taskArn' <<<"$run")
check "run-task returned a task and no failures" eq "$(jq -r '(.tasks|length|tostring) + "/" + (.failures|length|tostring)' <<<"$run")" "1/0"
check "run-task answers PROVISIONING with a PRECREATED attachment" eq "$(jq -r '.tasks[0].lastStatus + "/" + .tasks[0].attachments[0].status' <<<"$run")" "PROVISIONING/PRECREATED"
wait_until 180 "task RUNNING" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs describe-tasks --cluster awsvpc-demo --tasks $TASK --query 'tasks[0].lastStatus' --output text)\" = RUNNING ]"
desc=$(awsx ecs describe-tasks --cluster awsvpc-demo --tasks "$TASK" --query 'tasks[0]' --output json)
IP=$(jq -r '.containers[0].networkInterfaces[0].privateIpv4Address' <<<"$desc")
ENI=$(jq -r '.attachments[0].details[] | select(.name=="networkInterfaceId") | .value' <<<"$desc")
MAC=$(jq -r '.attachments[0].details[] | select(.name=="macAddress") | .value' <<<"$desc")
check "attachment is an ATTACHED ElasticNetworkInterface" eq "$(jq -r '.attachments[0].type + "/" + .attachments[0].status' <<<"$desc")" "ElasticNetworkInterface/ATTACHED"
check "attachment details in AWS's order" eq "$(jq -r '[.attachments[0].details[].name] | join(",")' <<<"$desc")" "subnetId,networkInterfaceId,macAddress,privateDnsName,privateIPv4Address"
check "task group is family:nginx-awsvpc" eq "$(jq -r .group <<<"$desc")" "family:nginx-awsvpc"
check "ENI in EC2: in-use, requester-managed, the task's group and IP" eq "$(awsx ec2 describe-network-interfaces --network-interface-ids "$ENI" --query 'NetworkInterfaces[0].[PrivateIpAddress,Groups[0].GroupId,Status,RequesterManaged]' --output text | tr '\t' ' ')" "$IP $SG in-use True"
TASK_ID=${TASK##*/}
check "the task's namespace has eth0 with its IP" grep -q "inet $IP/24" <<<"$("$VPCSIM" exec "$TASK_ID" -- ip -o -4 addr show dev eth0 2>/dev/null)"
check "eth0 carries the ENI's MAC" grep -qi "$MAC" <<<"$("$VPCSIM" exec "$TASK" -- ip -o link show dev eth0 2>/dev/null)"
check "ping is dropped: the task's group admits tcp/80 only" bash -c "! $VPCSIM exec $CLIENT -- busybox ping -c1 -W1 $IP >/dev/null 2>&1"
# (curl, not busybox wget: Debian 12's busybox crashes on wget -T)
check "the task's container answers on port 80 at the task's own IP" grep -q "hello from the vpcsim test image" <<<"$("$VPCSIM" exec "$CLIENT" -- curl -s -m 3 "http://$IP/" 2>/dev/null)"
CID=$(jq -r '.containers[0].containerArn' <<<"$desc"); CID=${CID##*/}
meta=$("$VPCSIM" exec "$TASK_ID" -- curl -s -m 3 "http://169.254.170.2/v4/$CID/task" 2>/dev/null)
check "the metadata endpoint answers inside the task with its ENI's facts" eq "$(jq -r '[.TaskARN, .Containers[0].Networks[0].IPv4Addresses[0], .Containers[0].Networks[0].MACAddress, .Containers[0].Networks[0].IPv4SubnetCIDRBlock, .Containers[0].Networks[0].SubnetGatewayIpv4Address] | join(" ")' <<<"$meta")" "$TASK $IP $MAC 10.0.0.0/24 10.0.0.1/24"

TASK2=$(awsx ecs run-task --cluster awsvpc-demo --network-configuration "$NET" --task-definition nginx-awsvpc --query 'tasks[0].taskArn' --output text)
wait_until 180 "second task RUNNING" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs describe-tasks --cluster awsvpc-demo --tasks $TASK2 --query 'tasks[0].lastStatus' --output text)\" = RUNNING ]"
IP2=$(awsx ecs describe-tasks --cluster awsvpc-demo --tasks "$TASK2" --query 'tasks[0].containers[0].networkInterfaces[0].privateIpv4Address' --output text)
check "both copies on the same container instance" eq "$(awsx ecs describe-tasks --cluster awsvpc-demo --tasks "$TASK" "$TASK2" --query 'tasks[].containerInstanceArn' --output text | tr -s '\t ' '\n' | sort -u | wc -l | tr -d ' ')" "1"
check "each copy has its own IP" [ "$IP" != "$IP2" ]
check "the second copy answers on the same port 80 at its own IP" grep -q "hello from the vpcsim test image" <<<"$("$VPCSIM" exec "$CLIENT" -- curl -s -m 3 "http://$IP2/" 2>/dev/null)"
run3=$(awsx ecs run-task --cluster awsvpc-demo --network-configuration "$NET" --task-definition nginx-awsvpc --output json)
check "third task on a c5.large fails with RESOURCE:ENI" eq "$(jq -r '.failures[0].reason' <<<"$run3")" "RESOURCE:ENI"

check "stop-task answers desiredStatus STOPPED" eq "$(awsx ecs stop-task --cluster awsvpc-demo --task "$TASK" --reason "acceptance done" --query 'task.[desiredStatus,stopCode,stoppedReason]' --output text | tr '\t' '/')" "STOPPED/UserInitiated/acceptance done"
wait_until 180 "task STOPPED" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs describe-tasks --cluster awsvpc-demo --tasks $TASK --query 'tasks[0].lastStatus' --output text)\" = STOPPED ]"
check "the stopped task no longer answers" bash -c "! $VPCSIM exec $CLIENT -- curl -s -m 2 http://$IP/ 2>/dev/null | grep -q hello"
check "the stopped task's attachment is DELETED" eq "$(awsx ecs describe-tasks --cluster awsvpc-demo --tasks "$TASK" --query 'tasks[0].attachments[0].status' --output text)" "DELETED"
expect_error InvalidNetworkInterfaceID.NotFound "the stopped task's ENI is gone" ec2 describe-network-interfaces --network-interface-ids "$ENI"
check "the stopped task's namespace is gone" bash -c "! $VPCSIM exec $TASK_ID -- true 2>/dev/null"
check "list-tasks --desired-status STOPPED" eq "$(awsx ecs list-tasks --cluster awsvpc-demo --desired-status STOPPED --query 'taskArns[0]' --output text)" "$TASK"

awsx ecs stop-task --cluster awsvpc-demo --task "$TASK2" >/dev/null
wait_until 180 "second task STOPPED" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs describe-tasks --cluster awsvpc-demo --tasks $TASK2 --query 'tasks[0].lastStatus' --output text)\" = STOPPED ]"
awsx ec2 terminate-instances --instance-ids "$INST" "$CLIENT" >/dev/null
wait_until 180 "container instance deregistered" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs list-container-instances --cluster awsvpc-demo --query 'length(containerInstanceArns)')\" = 0 ]"
check "delete-cluster" eq "$(awsx ecs delete-cluster --cluster awsvpc-demo --query cluster.status --output text)" "INACTIVE"
finish
