package ecsjson

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/aws/smithy-go"

	"github.com/vpcsim/vpcsim/vpcsim/awstest"
)

// TestSDK drives the handler with aws-sdk-go-v2's ECS client (SigV4-signed, so the
// region comes from the credential scope): its deserializers are strict about
// types, and its error parsing turns each __type into the model's typed error.
func TestSDK(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := ecs.NewFromConfig(aws.Config{
		Region:           "ap-south-1",
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint:     aws.String(ts.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       awstest.HTTPClient(),
	})

	cl, err := c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("web"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}})
	if err != nil {
		t.Fatalf("CreateCluster: %v", err)
	}
	if aws.ToString(cl.Cluster.ClusterArn) != "arn:aws:ecs:ap-south-1:123456789012:cluster/web" ||
		aws.ToString(cl.Cluster.Status) != "ACTIVE" || cl.Cluster.RunningTasksCount != 0 ||
		len(cl.Cluster.Tags) != 1 || aws.ToString(cl.Cluster.Tags[0].Value) != "a" {
		t.Errorf("cluster %+v", cl.Cluster)
	}
	if cl.ResultMetadata.Has("x") {
		t.Error("metadata")
	}

	desc, err := c.DescribeClusters(ctx, &ecs.DescribeClustersInput{Clusters: []string{"web", "gone"}})
	if err != nil || len(desc.Clusters) != 1 || len(desc.Failures) != 1 || aws.ToString(desc.Failures[0].Reason) != "MISSING" {
		t.Fatalf("DescribeClusters: %v %+v", err, desc)
	}

	run, err := c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web:1"), Group: aws.String("g")})
	if err != nil {
		t.Fatalf("RunTask: %v", err)
	}
	task := run.Tasks[0]
	if !aws.ToTime(task.CreatedAt).Equal(created) {
		t.Errorf("createdAt %v, want %v", aws.ToTime(task.CreatedAt), created)
	}
	if task.LaunchType != types.LaunchTypeEc2 || task.Version != 1 || aws.ToString(task.Group) != "g" ||
		task.Containers[0].NetworkInterfaces == nil || task.Containers[0].HealthStatus != types.HealthStatusUnknown ||
		aws.ToString(task.Attachments[0].Details[0].Value) != "subnet-0abc" {
		t.Errorf("task %+v", task)
	}

	// Errors: each __type becomes the model's typed error, with its message.
	_, err = c.DeleteCluster(ctx, &ecs.DeleteClusterInput{Cluster: aws.String("gone")})
	var nf *types.ClusterNotFoundException
	if !errors.As(err, &nf) || nf.ErrorMessage() != "Cluster not found." {
		t.Errorf("DeleteCluster: %v, want ClusterNotFoundException", err)
	}
	_, err = c.CreateCluster(ctx, &ecs.CreateClusterInput{ClusterName: aws.String("taken")})
	var ce *types.ClientException
	if !errors.As(err, &ce) || ce.ErrorMessage() != `Cluster taken <&> "quoted".` {
		t.Errorf("CreateCluster taken: %v, want ClientException", err)
	}
	_, err = c.ListClusters(ctx, &ecs.ListClustersInput{})
	var se *types.ServerException
	if !errors.As(err, &se) || se.ErrorFault() != smithy.FaultServer {
		t.Errorf("ListClusters: %v, want ServerException", err)
	}
	_, err = c.PutAccountSetting(ctx, &ecs.PutAccountSettingInput{Name: types.SettingNameServiceLongArnFormat, Value: aws.String("enabled")})
	var uf *types.UnsupportedFeatureException
	if !errors.As(err, &uf) || uf.ErrorMessage() != "The operation PutAccountSetting is not supported by vpcsim yet." {
		t.Errorf("PutAccountSetting: %v, want UnsupportedFeatureException", err)
	}
	_, err = c.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{TaskDefinition: aws.String("nope")})
	if !errors.As(err, &ce) || ce.ErrorMessage() != "Unable to describe task definition." {
		t.Errorf("DescribeTaskDefinition: %v", err)
	}
	_, err = c.RunTask(ctx, &ecs.RunTaskInput{TaskDefinition: aws.String("web"), LaunchType: "EC3"})
	var ip *types.InvalidParameterException
	if !errors.As(err, &ip) {
		t.Errorf("RunTask EC3: %v, want InvalidParameterException", err)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterException" {
		t.Errorf("error code: %v", err)
	}
}
