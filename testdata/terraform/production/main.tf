# A production-shaped VPC with ECS on EC2: public and private subnets in two zones, an
# internet gateway for the public ones, a NAT gateway for the private ones, a network ACL
# on the private subnets, two container hosts (ECS-optimized AMI from SSM, gp3 root
# volumes, IMDSv2 only) in the private subnets, and an awsvpc service of two tasks spread
# over them; and a shared-services VPC, with a secondary block, peered with the main one
# and routed to its private subnets.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.45.0"
    }
  }
}

variable "endpoint" {
  description = "vpcsim's endpoint (EC2 query API, ECS JSON API and the rest on one address)"
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "name" {
  type    = string
  default = "production"
}

variable "instance_profile" {
  description = "The container hosts' instance profile (vpcsim has no IAM: taken as named)"
  type        = string
  default     = "ecsInstanceRole"
}

provider "aws" {
  region     = "us-west-2"
  access_key = "test"
  secret_key = "test"

  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true

  endpoints {
    ec2 = var.endpoint
    ecs = var.endpoint
    sts = var.endpoint
    ssm = var.endpoint
  }

  default_tags {
    tags = {
      Environment = var.name
    }
  }
}

locals {
  vpc_cidr = "10.0.0.0/16"
  azs      = ["us-west-2a", "us-west-2b"]
  public   = ["10.0.0.0/24", "10.0.1.0/24"]
  private  = ["10.0.10.0/24", "10.0.11.0/24"]

  shared_cidr  = "10.1.0.0/16"
  shared_block = "10.2.0.0/16" # the shared VPC's secondary block, where its subnet is
}

# --- network ---------------------------------------------------------------------------

resource "aws_vpc" "main" {
  cidr_block                       = local.vpc_cidr
  assign_generated_ipv6_cidr_block = true # dual stack: a /56 of vpcsim's own ULA range
  enable_dns_support               = true
  enable_dns_hostnames             = true

  tags = {
    Name = var.name
  }
}

resource "aws_subnet" "public" {
  count                   = length(local.azs)
  vpc_id                  = aws_vpc.main.id
  cidr_block              = local.public[count.index]
  availability_zone       = local.azs[count.index]
  map_public_ip_on_launch = true

  ipv6_cidr_block                 = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, count.index)
  assign_ipv6_address_on_creation = true

  tags = {
    Name = "${var.name}-public-${local.azs[count.index]}"
    Tier = "public"
  }
}

resource "aws_subnet" "private" {
  count             = length(local.azs)
  vpc_id            = aws_vpc.main.id
  cidr_block        = local.private[count.index]
  availability_zone = local.azs[count.index]

  ipv6_cidr_block                 = cidrsubnet(aws_vpc.main.ipv6_cidr_block, 8, 10 + count.index)
  assign_ipv6_address_on_creation = true

  tags = {
    Name = "${var.name}-private-${local.azs[count.index]}"
    Tier = "private"
  }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = var.name
  }
}

# The private subnets' IPv6 goes out, and only replies come back.
resource "aws_egress_only_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id

  tags = {
    Name = var.name
  }
}

resource "aws_eip" "nat" {
  domain = "vpc"

  tags = {
    Name = "${var.name}-nat"
  }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_nat_gateway" "main" {
  allocation_id = aws_eip.nat.id
  subnet_id     = aws_subnet.public[0].id

  tags = {
    Name = var.name
  }

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }

  route {
    ipv6_cidr_block = "::/0"
    gateway_id      = aws_internet_gateway.main.id
  }

  tags = {
    Name = "${var.name}-public"
  }
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id

  route {
    cidr_block     = "0.0.0.0/0"
    nat_gateway_id = aws_nat_gateway.main.id
  }

  route {
    ipv6_cidr_block        = "::/0"
    egress_only_gateway_id = aws_egress_only_internet_gateway.main.id
  }

  route {
    cidr_block                = local.shared_block
    vpc_peering_connection_id = aws_vpc_peering_connection.shared.id
  }

  tags = {
    Name = "${var.name}-private"
  }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  count          = length(aws_subnet.private)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# --- shared services: a VPC peered with the main one ---------------------------------

resource "aws_vpc" "shared" {
  cidr_block = local.shared_cidr

  tags = {
    Name = "${var.name}-shared"
  }
}

resource "aws_vpc_ipv4_cidr_block_association" "shared" {
  vpc_id     = aws_vpc.shared.id
  cidr_block = local.shared_block
}

resource "aws_subnet" "shared" {
  vpc_id            = aws_vpc_ipv4_cidr_block_association.shared.vpc_id
  cidr_block        = "10.2.1.0/24"
  availability_zone = local.azs[0]

  tags = {
    Name = "${var.name}-shared"
  }
}

# One account, one region: the provider accepts the request it makes.
resource "aws_vpc_peering_connection" "shared" {
  vpc_id      = aws_vpc.main.id
  peer_vpc_id = aws_vpc.shared.id
  auto_accept = true

  tags = {
    Name = "${var.name}-to-shared"
  }
}

resource "aws_route_table" "shared" {
  vpc_id = aws_vpc.shared.id

  route {
    cidr_block                = local.vpc_cidr
    vpc_peering_connection_id = aws_vpc_peering_connection.shared.id
  }

  tags = {
    Name = "${var.name}-shared"
  }
}

resource "aws_route_table_association" "shared" {
  subnet_id      = aws_subnet.shared.id
  route_table_id = aws_route_table.shared.id
}

# The private subnets take anything from inside the VPC and, from outside, only the
# replies to their own connections (ephemeral ports); they may send anything.
resource "aws_network_acl" "private" {
  vpc_id     = aws_vpc.main.id
  subnet_ids = aws_subnet.private[*].id

  ingress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = local.vpc_cidr
  }

  ingress {
    rule_no    = 110
    action     = "allow"
    protocol   = "tcp"
    from_port  = 1024
    to_port    = 65535
    cidr_block = "0.0.0.0/0"
  }

  ingress {
    rule_no         = 101
    action          = "allow"
    protocol        = "-1"
    from_port       = 0
    to_port         = 0
    ipv6_cidr_block = aws_vpc.main.ipv6_cidr_block
  }

  ingress {
    rule_no         = 111
    action          = "allow"
    protocol        = "tcp"
    from_port       = 1024
    to_port         = 65535
    ipv6_cidr_block = "::/0"
  }

  egress {
    rule_no    = 100
    action     = "allow"
    protocol   = "-1"
    from_port  = 0
    to_port    = 0
    cidr_block = "0.0.0.0/0"
  }

  egress {
    rule_no         = 101
    action          = "allow"
    protocol        = "-1"
    from_port       = 0
    to_port         = 0
    ipv6_cidr_block = "::/0"
  }

  tags = {
    Name = "${var.name}-private"
  }
}

# --- security groups -------------------------------------------------------------------

resource "aws_security_group" "hosts" {
  name        = "${var.name}-ecs-hosts"
  description = "ECS container hosts: outbound only"
  vpc_id      = aws_vpc.main.id

  egress {
    protocol         = "-1"
    from_port        = 0
    to_port          = 0
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

resource "aws_security_group" "tasks" {
  name        = "${var.name}-web-tasks"
  description = "web tasks: port 80 from the VPC"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "HTTP from the VPC"
    protocol    = "tcp"
    from_port   = 80
    to_port     = 80
    cidr_blocks = [aws_vpc.main.cidr_block]
  }

  egress {
    protocol         = "-1"
    from_port        = 0
    to_port          = 0
    cidr_blocks      = ["0.0.0.0/0"]
    ipv6_cidr_blocks = ["::/0"]
  }
}

# --- ECS -------------------------------------------------------------------------------

resource "aws_ecs_cluster" "main" {
  name = var.name

  setting {
    name  = "containerInsights"
    value = "enabled"
  }
}

data "aws_ssm_parameter" "ecs_ami" {
  name = "/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id"
}

resource "aws_instance" "container_host" {
  count                  = 2
  ami                    = data.aws_ssm_parameter.ecs_ami.value
  instance_type          = "m5.large"
  subnet_id              = aws_subnet.private[count.index].id
  vpc_security_group_ids = [aws_security_group.hosts.id]
  iam_instance_profile   = var.instance_profile
  user_data              = "#!/bin/bash\necho ECS_CLUSTER=${aws_ecs_cluster.main.name} >> /etc/ecs/ecs.config\n"

  root_block_device {
    volume_size = 30
    volume_type = "gp3"
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  tags = {
    Name = "${var.name}-ecs-host-${count.index}"
  }

  # The hosts reach the ECS endpoints through the NAT gateway.
  depends_on = [aws_route_table_association.private, aws_nat_gateway.main]
}

resource "aws_ecs_task_definition" "web" {
  family                   = "${var.name}-web"
  network_mode             = "awsvpc"
  requires_compatibilities = ["EC2"]
  cpu                      = "256"
  memory                   = "512"

  container_definitions = jsonencode([
    {
      name        = "web"
      image       = "vpcsim/echo"
      memory      = 64
      essential   = true
      stopTimeout = 2
      portMappings = [
        {
          containerPort = 80
          hostPort      = 80
          protocol      = "tcp"
        }
      ]
    }
  ])
}

resource "aws_ecs_service" "web" {
  name            = "web"
  cluster         = aws_ecs_cluster.main.id
  task_definition = aws_ecs_task_definition.web.arn
  desired_count   = 2
  launch_type     = "EC2"

  network_configuration {
    subnets          = aws_subnet.private[*].id
    security_groups  = [aws_security_group.tasks.id]
    assign_public_ip = false
  }

  ordered_placement_strategy {
    type  = "spread"
    field = "attribute:ecs.availability-zone"
  }

  deployment_circuit_breaker {
    enable   = true
    rollback = true
  }

  deployment_minimum_healthy_percent = 50
  deployment_maximum_percent         = 200

  wait_for_steady_state = true

  # Tasks need registered container instances to be placed.
  depends_on = [aws_instance.container_host]
}

# --- outputs ---------------------------------------------------------------------------

output "vpc_id" {
  value = aws_vpc.main.id
}

output "public_subnet_ids" {
  value = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "internet_gateway_id" {
  value = aws_internet_gateway.main.id
}

output "nat_gateway_id" {
  value = aws_nat_gateway.main.id
}

output "nat_public_ip" {
  value = aws_eip.nat.public_ip
}

output "peering_id" {
  value = aws_vpc_peering_connection.shared.id
}

output "shared_subnet_id" {
  value = aws_subnet.shared.id
}

output "network_acl_id" {
  value = aws_network_acl.private.id
}

output "cluster_arn" {
  value = aws_ecs_cluster.main.arn
}

output "instance_ids" {
  value = aws_instance.container_host[*].id
}

output "ami_id" {
  value     = data.aws_ssm_parameter.ecs_ami.value
  sensitive = true
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.web.arn
}

output "service_id" {
  value = aws_ecs_service.web.id
}
