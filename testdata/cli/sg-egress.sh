#!/usr/bin/env bash
# A task's own egress under its security group, with the echo image as the probe
# (`/echo fetch URL WANT` exits 0 on an answer containing WANT, else 7): replies
# to allowed egress pass, no egress rule means no connection, a narrow rule is
# enough. The probe ENI's flow log records ACCEPT and REJECT, `vpcsim sg explain`
# names the rule, and terminating an instance ends its processes.
# usage: ACCEPTANCE_LIB=…/shared/acceptance/lib.sh VPCSIM_ENDPOINT=… VPCSIM=… VPCSIM_DATA_DIR=… bash sg-egress.sh   (as root)
source "${ACCEPTANCE_LIB:?path of shared/acceptance/lib.sh}"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

VPC=$(awsx ec2 create-vpc --cidr-block 10.30.0.0/16 --query Vpc.VpcId --output text)
SUB=$(awsx ec2 create-subnet --vpc-id "$VPC" --cidr-block 10.30.1.0/24 --query Subnet.SubnetId --output text)
TASK_SG=$(awsx ec2 create-security-group --vpc-id "$VPC" --group-name task --description task --query GroupId --output text)
CLIENT_SG=$(awsx ec2 create-security-group --vpc-id "$VPC" --group-name client --description client --query GroupId --output text)
awsx ecs create-cluster --cluster-name egress >/dev/null
CLIENT=$(awsx ec2 run-instances --image-id ami-1 --instance-type t3.micro --subnet-id "$SUB" --security-group-ids "$CLIENT_SG" --query 'Instances[0].InstanceId' --output text)
wait_until 180 "instance running" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ec2 describe-instances --instance-ids $CLIENT --query 'Reservations[0].Instances[0].State.Name' --output text)\" = running ]"
CLIENT_IP=$(awsx ec2 describe-instances --instance-ids "$CLIENT" --query 'Reservations[0].Instances[0].PrivateIpAddress' --output text)
CLIENT_ENI=$(awsx ec2 describe-instances --instance-ids "$CLIENT" --query 'Reservations[0].Instances[0].NetworkInterfaces[0].NetworkInterfaceId' --output text)
mkdir -p "$work/www" && echo probe-ok > "$work/www/index.html"
"$VPCSIM" exec "$CLIENT" -- busybox httpd -p 8000 -h "$work/www"
awsx ec2 authorize-security-group-ingress --group-id "$CLIENT_SG" --ip-permissions "IpProtocol=tcp,FromPort=8000,ToPort=8000,UserIdGroupPairs=[{GroupId=$TASK_SG}]" >/dev/null
# A file flow log writes beneath the data directory's flowlogs/file (or a --host-path directory).
flowlog="${VPCSIM_DATA_DIR:?the data directory of the vpcsim at VPCSIM_ENDPOINT}/flowlogs/file/egress-$$/flow.log"
awsx ec2 create-flow-logs --resource-type NetworkInterface --resource-ids "$CLIENT_ENI" --traffic-type ALL \
  --log-destination-type file --log-destination "$flowlog" >/dev/null

cat > "$work/td.json" <<JSON
{"family": "probe", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256", "memory": "512",
 "containerDefinitions": [{"name": "probe", "image": "vpcsim/echo", "essential": true,
   "command": ["fetch", "http://$CLIENT_IP:8000/", "probe-ok"]}]}
JSON
awsx ecs register-task-definition --cli-input-json "file://$work/td.json" >/dev/null
NET="awsvpcConfiguration={subnets=[\"$SUB\"],securityGroups=[\"$TASK_SG\"]}"
probe() { # runs the one-shot probe task and prints its exit code
  local t; t=$(awsx ecs run-task --cluster egress --launch-type FARGATE --network-configuration "$NET" --task-definition probe --query 'tasks[0].taskArn' --output text)
  wait_until 180 "probe STOPPED" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ecs describe-tasks --cluster egress --tasks $t --query 'tasks[0].lastStatus' --output text)\" = STOPPED ]" || true
  awsx ecs describe-tasks --cluster egress --tasks "$t" --query 'tasks[0].containers[0].exitCode' --output text
}
check "egress to a group-referenced peer, and its replies, pass" eq "$(probe)" "0"
awsx ec2 revoke-security-group-egress --group-id "$TASK_SG" --ip-permissions 'IpProtocol=-1,IpRanges=[{CidrIp=0.0.0.0/0}]' >/dev/null
check "no egress rule: the same fetch fails" eq "$(probe)" "7"
awsx ec2 authorize-security-group-egress --group-id "$TASK_SG" --ip-permissions "IpProtocol=tcp,FromPort=8000,ToPort=8000,IpRanges=[{CidrIp=$CLIENT_IP/32}]" >/dev/null
check "a narrow egress rule is enough" eq "$(probe)" "0"

# The client's ingress, explained from the model the kernel enforces.
explain=$("$VPCSIM" sg explain "$CLIENT_ENI" --from 10.30.1.250 --port 8000 2>&1)
check "sg explain: no ENI has the sender's address" grep -q "dropped as spoofed" <<<"$explain"
explain=$("$VPCSIM" sg explain "$CLIENT_ENI" --from "$CLIENT_IP" --port 22 2>&1)
check "sg explain: nothing admits port 22" grep -q "DENIED" <<<"$explain"

# Flow log records (version 2 format) of the client's ENI: the fetches arrived.
wait_until 180 "flow log records" grep -q " ACCEPT OK" "$flowlog"
check "flow log: an ACCEPT record of a fetch to port 8000" grep -qE "^2 [0-9]{12} $CLIENT_ENI 10\.30\.1\.[0-9]+ $CLIENT_IP [0-9]+ 8000 6 [0-9]+ [0-9]+ [0-9]+ [0-9]+ ACCEPT OK$" "$flowlog"

awsx ec2 terminate-instances --instance-ids "$CLIENT" >/dev/null
wait_until 180 "instance terminated" bash -c "[ \"\$(AWS_PAGER= $AWSCLI --endpoint-url $ENDPOINT ec2 describe-instances --instance-ids $CLIENT --query 'Reservations[0].Instances[0].State.Name' --output text)\" = terminated ]"
# ([8] keeps pgrep from matching this very command line)
check "terminating an instance ends the processes in it" bash -c "! pgrep -f 'httpd -p [8]000 -h $work/www' >/dev/null"
finish
