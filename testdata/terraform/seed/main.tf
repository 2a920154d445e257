# The seed's task networking, as Terraform: what ../shared/acceptance/02-seed.sh does
# by hand with the aws CLI ("Introducing Cloud Native Networking for Amazon ECS
# Containers"): a VPC with one subnet, a security group open on port 80, an ECS cluster,
# an EC2 instance whose user data joins it, and an awsvpc task definition.
#
#   eval "$(bash ../shared/tools/terraform/install.sh)"
#   tofu init && tofu apply -var endpoint=http://127.0.0.1:4566
#
# cmd/vpcsim/terraform_e2e_test.go applies it against a fresh vpcsim, checks that a
# second plan has nothing to change, and destroys it.

terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "5.45.0"
    }
  }
}

variable "endpoint" {
  description = "vpcsim's endpoint (EC2 query API and ECS JSON API on one address)"
  type        = string
  default     = "http://127.0.0.1:4566"
}

variable "ami" {
  description = "Any AMI ID: vpcsim runs every instance as a network namespace"
  type        = string
  default     = "ami-0abcdef1234567890"
}

variable "cluster_name" {
  type    = string
  default = "awsvpc-demo"
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
}

resource "aws_vpc" "main" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_hostnames = true

  tags = {
    Name = "awsvpc-demo"
  }
}

resource "aws_subnet" "main" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.0.0/24"
  availability_zone = "us-west-2a"

  tags = {
    Name = "awsvpc-demo"
  }
}

resource "aws_security_group" "web" {
  name        = "awsvpc-demo-80"
  description = "port 80 only"
  vpc_id      = aws_vpc.main.id

  ingress {
    description = "HTTP from the VPC"
    protocol    = "tcp"
    from_port   = 80
    to_port     = 80
    cidr_blocks = [aws_vpc.main.cidr_block]
  }

  # Terraform removes the default allow-all egress rule of a new group; this puts it back,
  # so the group is what create-security-group makes by hand.
  egress {
    protocol    = "-1"
    from_port   = 0
    to_port     = 0
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_ecs_cluster" "main" {
  name = var.cluster_name
}

# A container instance: an EC2 instance whose user data names the cluster, as with the
# ECS-optimized AMI. An m5.large has 3 ENIs (one the primary): room for two awsvpc tasks.
resource "aws_instance" "container_host" {
  ami                    = var.ami
  instance_type          = "m5.large"
  subnet_id              = aws_subnet.main.id
  vpc_security_group_ids = [aws_security_group.web.id]
  user_data              = "#!/bin/bash\necho ECS_CLUSTER=${aws_ecs_cluster.main.name} >> /etc/ecs/ecs.config\n"

  tags = {
    Name = "awsvpc-demo-host"
  }
}

resource "aws_ecs_task_definition" "web" {
  family                   = "web-awsvpc"
  network_mode             = "awsvpc"
  requires_compatibilities = ["EC2"]

  # vpcsim/echo is one of the test images (testdata/images/echo): an HTTP server on
  # port 80 that answers with its hostname, addresses and environment.
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

output "vpc_id" {
  value = aws_vpc.main.id
}

output "subnet_id" {
  value = aws_subnet.main.id
}

output "security_group_id" {
  value = aws_security_group.web.id
}

output "cluster_arn" {
  value = aws_ecs_cluster.main.arn
}

output "cluster_name" {
  value = aws_ecs_cluster.main.name
}

output "instance_id" {
  value = aws_instance.container_host.id
}

output "task_definition_arn" {
  value = aws_ecs_task_definition.web.arn
}
