package ecsjson

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/ecsapi"
	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// stub is a tiny in-memory ECS behind the handler, registered with WithOperation,
// so the protocol is tested without the domain. Cluster names steer it:
// "boom" fails with an unmapped error, "panic" panics, "taken" is refused.
type stub struct {
	mu       sync.Mutex
	clusters map[string]ecstypes.Cluster // by name
	regions  []string                    // the region of every call, in order
}

var created = time.UnixMilli(1732478212123)

func (s *stub) sawRegion(sc ecsapi.Scope) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.regions = append(s.regions, sc.Region)
}

func (s *stub) createCluster(ctx context.Context, sc ecsapi.Scope, in *ecstypes.CreateClusterRequest) (*ecstypes.CreateClusterResponse, error) {
	s.sawRegion(sc)
	name := "default"
	if in.ClusterName != nil {
		name = *in.ClusterName
	}
	switch name {
	case "boom":
		return nil, errors.New("the disk is on fire")
	case "panic":
		panic("stub panics")
	case "taken":
		return nil, &ecsapi.Error{Type: "ClientException", Message: "Cluster taken <&> \"quoted\"."}
	case "slow":
		<-ctx.Done()
		return nil, ctx.Err()
	}
	c := ecstypes.Cluster{
		ClusterArn:                        ecstypes.Ptr("arn:aws:ecs:" + sc.Region + ":123456789012:cluster/" + name),
		ClusterName:                       ecstypes.Ptr(name),
		Status:                            ecstypes.Ptr("ACTIVE"),
		RegisteredContainerInstancesCount: ecstypes.Ptr(int32(0)),
		RunningTasksCount:                 ecstypes.Ptr(int32(0)),
		PendingTasksCount:                 ecstypes.Ptr(int32(0)),
		ActiveServicesCount:               ecstypes.Ptr(int32(0)),
		Statistics:                        []ecstypes.KeyValuePair{},
		Tags:                              in.Tags,
		Settings:                          in.Settings,
		CapacityProviders:                 []string{},
		DefaultCapacityProviderStrategy:   []ecstypes.CapacityProviderStrategyItem{},
	}
	if c.Tags == nil {
		c.Tags = []ecstypes.Tag{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clusters[name] = c
	return &ecstypes.CreateClusterResponse{Cluster: &c}, nil
}

func (s *stub) describeClusters(ctx context.Context, sc ecsapi.Scope, in *ecstypes.DescribeClustersRequest) (*ecstypes.DescribeClustersResponse, error) {
	s.sawRegion(sc)
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ecstypes.DescribeClustersResponse{Clusters: []ecstypes.Cluster{}, Failures: []ecstypes.Failure{}}
	for _, n := range in.Clusters {
		if c, ok := s.clusters[n]; ok {
			out.Clusters = append(out.Clusters, c)
		} else {
			out.Failures = append(out.Failures, ecstypes.Failure{Arn: ecstypes.Ptr("arn:aws:ecs:" + sc.Region + ":123456789012:cluster/" + n), Reason: ecstypes.Ptr("MISSING")})
		}
	}
	return out, nil
}

func (s *stub) deleteCluster(ctx context.Context, sc ecsapi.Scope, in *ecstypes.DeleteClusterRequest) (*ecstypes.DeleteClusterResponse, error) {
	s.sawRegion(sc)
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.clusters[*in.Cluster] // required: Validate guarantees it
	if !ok {
		return nil, &ecsapi.Error{Type: "ClusterNotFoundException", Message: "Cluster not found."}
	}
	delete(s.clusters, *in.Cluster)
	c.Status = ecstypes.Ptr("INACTIVE")
	return &ecstypes.DeleteClusterResponse{Cluster: &c}, nil
}

func (s *stub) listClusters(ctx context.Context, sc ecsapi.Scope, in *ecstypes.ListClustersRequest) (*ecstypes.ListClustersResponse, error) {
	s.sawRegion(sc)
	return nil, &ecsapi.Error{Type: "ServerException", Message: "Service Unavailable. Please try again later."}
}

func (s *stub) describeTaskDefinition(ctx context.Context, sc ecsapi.Scope, in *ecstypes.DescribeTaskDefinitionRequest) (*ecstypes.DescribeTaskDefinitionResponse, error) {
	return nil, &ecsapi.Error{Type: "ClientException", Message: "Unable to describe task definition."}
}

// runTask answers a task shaped as RunTask's answer is (AWS-SEMANTICS §1): every
// kind of member (timestamps, nested lists, enums, numbers) crosses the wire.
func (s *stub) runTask(ctx context.Context, sc ecsapi.Scope, in *ecstypes.RunTaskRequest) (*ecstypes.RunTaskResponse, error) {
	s.sawRegion(sc)
	arn := "arn:aws:ecs:" + sc.Region + ":123456789012:task/web/0123456789abcdef0123456789abcdef"
	t := ecstypes.Task{
		TaskArn:           ecstypes.Ptr(arn),
		ClusterArn:        ecstypes.Ptr("arn:aws:ecs:" + sc.Region + ":123456789012:cluster/web"),
		TaskDefinitionArn: ecstypes.Ptr("arn:aws:ecs:" + sc.Region + ":123456789012:task-definition/" + *in.TaskDefinition),
		LastStatus:        ecstypes.Ptr("PROVISIONING"),
		DesiredStatus:     ecstypes.Ptr("RUNNING"),
		LaunchType:        ecstypes.LaunchTypeEc2,
		Cpu:               ecstypes.Ptr("256"),
		Memory:            ecstypes.Ptr("512"),
		CreatedAt:         ecstypes.NewTimestamp(created),
		Version:           ecstypes.Ptr(int64(1)),
		Attachments: []ecstypes.Attachment{{
			Id: ecstypes.Ptr("a1b2c3d4-0000-4000-8000-000000000000"), Type: ecstypes.Ptr("ElasticNetworkInterface"), Status: ecstypes.Ptr("PRECREATED"),
			Details: []ecstypes.KeyValuePair{{Name: ecstypes.Ptr("subnetId"), Value: ecstypes.Ptr("subnet-0abc")}},
		}},
		Containers: []ecstypes.Container{{
			Name: ecstypes.Ptr("app"), LastStatus: ecstypes.Ptr("PENDING"), NetworkInterfaces: []ecstypes.NetworkInterface{},
			HealthStatus: ecstypes.HealthStatusUnknown,
		}},
		Overrides:  &ecstypes.TaskOverride{ContainerOverrides: []ecstypes.ContainerOverride{}},
		Tags:       []ecstypes.Tag{},
		StopCode:   "",
		Group:      in.Group,
		StartedBy:  in.StartedBy,
		Attributes: []ecstypes.Attribute{{Name: ecstypes.Ptr("ecs.cpu-architecture"), Value: ecstypes.Ptr("x86_64")}},
	}
	return &ecstypes.RunTaskResponse{Tasks: []ecstypes.Task{t}, Failures: []ecstypes.Failure{}}, nil
}

// stubOptions registers the stub's operations.
func (s *stub) options() []Option {
	return []Option{
		WithOperation("CreateCluster", s.createCluster),
		WithOperation("DescribeClusters", s.describeClusters),
		WithOperation("DeleteCluster", s.deleteCluster),
		WithOperation("ListClusters", s.listClusters),
		WithOperation("DescribeTaskDefinition", s.describeTaskDefinition),
		WithOperation("RunTask", s.runTask),
	}
}

type testServer struct {
	*httptest.Server
	stub *stub
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// newTestServer runs the handler over the stub (no domain: svc is nil) with
// us-east-1 as the default region.
func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	s := &stub{clusters: map[string]ecstypes.Cluster{}}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := httptest.NewServer(NewHandler(nil, log, "us-east-1", append(s.options(), opts...)...))
	t.Cleanup(func() {
		srv.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: srv, stub: s, logs: logs}
}

// signed is an Authorization header in us-west-2.
const signed = "AWS4-HMAC-SHA256 Credential=test/20261124/us-west-2/ecs/aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=abcdef0123"

// post sends a JSON 1.1 request as an SDK does; target "" sends none.
func (ts *testServer) post(t *testing.T, op, body string, hdr ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", ts.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	if op != "" {
		req.Header.Set("X-Amz-Target", ecstypes.TargetPrefix+"."+op)
	}
	req.Header.Set("Authorization", signed)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
