#!/bin/bash
# Writes storage/testdata/fixture-v1.db: a database as vpcsim wrote it before
# the state engine kept a format version per kind (commit 61aa8e7), for the
# test that opens it with today's code and migrates it. Run from the
# repository root with that commit's binary:
#   git worktree add /tmp/old 61aa8e7 && (cd /tmp/old && go build -o /tmp/vpcsim-old ./cmd/vpcsim)
#   VPCSIM=/tmp/vpcsim-old bash storage/testdata/make-fixture.sh
# It serves with --dataplane none (no root, no containers: tasks go through
# their lifecycle without processes) and drives it with the aws CLI.
set -euo pipefail
VPCSIM=${VPCSIM:?the vpcsim binary to write the fixture with}
out=$(cd "$(dirname "$0")" && pwd)/fixture-v1.db
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
port=45661
"$VPCSIM" serve --listen 127.0.0.1:$port --data-dir "$dir" --dataplane none --region us-east-1 >"$dir/log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 AWS_PAGER=
aws() { command aws --endpoint-url "http://127.0.0.1:$port" --output text "$@"; }

vpc=$(aws ec2 create-vpc --cidr-block 10.20.0.0/16 --tag-specifications 'ResourceType=vpc,Tags=[{Key=Name,Value=fixture}]' --query Vpc.VpcId)
sub=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.1.0/24 --availability-zone us-east-1a --query Subnet.SubnetId)
sub2=$(aws ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.20.2.0/24 --availability-zone us-east-1b --query Subnet.SubnetId)
sg=$(aws ec2 create-security-group --vpc-id "$vpc" --group-name web --description "fixture web" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 80 --cidr 10.0.0.0/8 >/dev/null
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol -1 --source-group "$sg" >/dev/null
eni=$(aws ec2 create-network-interface --subnet-id "$sub2" --groups "$sg" --description "fixture eni" --query NetworkInterface.NetworkInterfaceId)
aws ec2 create-tags --resources "$eni" --tags Key=role,Value=spare
# The cluster first: the instance's agent registers as it starts.
aws ecs create-cluster --cluster-name fixture --tags key=team,value=net >/dev/null
aws ec2 run-instances --image-id ami-12345678 --instance-type c5.large --subnet-id "$sub" --security-group-ids "$sg" \
  --user-data $'#!/bin/bash\necho ECS_CLUSTER=fixture >> /etc/ecs/ecs.config' >/dev/null
aws ec2 create-flow-logs --resource-type VPC --resource-ids "$vpc" --traffic-type ALL \
  --log-destination-type s3 --log-destination arn:aws:s3:::fixture-bucket/flows >/dev/null

for _ in $(seq 30); do
  [ "$(aws ecs list-container-instances --cluster fixture --query 'length(containerInstanceArns)')" = 1 ] && break; sleep 1
done
aws ecs register-task-definition --cli-input-json "file://$(dirname "$0")/../../testdata/taskdefs/nginx-awsvpc.json" >/dev/null
aws ecs register-task-definition --family bridge-web --network-mode bridge \
  --container-definitions '[{"name":"web","image":"nginx:latest","memory":128,"portMappings":[{"containerPort":80,"hostPort":8080}]}]' >/dev/null
netcfg="awsvpcConfiguration={subnets=[$sub],securityGroups=[$sg]}"
kept=$(aws ecs run-task --cluster fixture --task-definition nginx-awsvpc --network-configuration "$netcfg" --query 'tasks[0].taskArn')
gone=$(aws ecs run-task --cluster fixture --task-definition nginx-awsvpc --network-configuration "$netcfg" --query 'tasks[0].taskArn')
aws ecs run-task --cluster fixture --task-definition bridge-web >/dev/null
for t in "$kept" "$gone"; do aws ecs wait tasks-running --cluster fixture --tasks "$t"; done
aws ecs stop-task --cluster fixture --task "$gone" --reason "fixture: stopped" >/dev/null
aws ecs wait tasks-stopped --cluster fixture --tasks "$gone"

kill -TERM $pid; wait $pid || true
rm -f "$out"
# One file, as SQLite leaves it after its last connection closed.
cp "$dir/vpcsim.db" "$out"
ls "$dir"
echo "wrote $out"
