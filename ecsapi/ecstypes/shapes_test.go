package ecstypes

import (
	"encoding/json"
	"testing"
)

func TestOmitzero(t *testing.T) {
	b, _ := json.Marshal(DescribeClustersResponse{Failures: []Failure{}})
	if string(b) != `{"failures":[]}` {
		t.Errorf("empty list: %s", b)
	}
	b, _ = json.Marshal(Task{Cpu: Ptr(""), Containers: nil, LaunchType: ""})
	if string(b) != `{"cpu":""}` {
		t.Errorf("absent vs zero: %s", b)
	}
}

func TestTables(t *testing.T) {
	if len(Operations) != len(OperationNames) || len(Operations) < 77 {
		t.Fatalf("%d operations, %d names", len(Operations), len(OperationNames))
	}
	for _, name := range OperationNames {
		op := Operations[name]
		if op.Input != name+"Request" || op.Output != name+"Response" {
			t.Errorf("%s: %+v", name, op)
		}
		for _, e := range op.Errors {
			if _, ok := Exceptions[e]; !ok {
				t.Errorf("%s: error %s is not an exception shape", name, e)
			}
		}
	}
	if !Exceptions["ServerException"] || Exceptions["ClientException"] {
		t.Errorf("faults: %v", Exceptions)
	}
	if err := constraints.CheckPatterns(); err != nil {
		t.Error(err)
	}
}
