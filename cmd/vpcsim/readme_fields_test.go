package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/vpcsim/vpcsim/ecsapi/ecstypes"
)

// TestReadmeTaskDefinitionFields: the README's tables of task-definition
// fields and RunTask overrides name every field of botocore's shapes (the
// generated ecsapi types), so a field cannot be accepted without saying
// whether it is applied.
func TestReadmeTaskDefinitionFields(t *testing.T) {
	raw, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, "### ECS task definitions and RunTask overrides"), strings.Index(readme, "<!-- coverage:begin -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no task-definition tables before its coverage section")
	}
	tables := readme[i:j]
	for _, shape := range []any{
		ecstypes.RegisterTaskDefinitionRequest{}, ecstypes.ContainerDefinition{}, ecstypes.LinuxParameters{},
		ecstypes.TaskOverride{}, ecstypes.ContainerOverride{},
	} {
		typ := reflect.TypeOf(shape)
		for f := range typ.Fields() {
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name != "" && !strings.Contains(tables, "`"+name+"`") {
				t.Errorf("README.md does not say whether %s.%s is applied", typ.Name(), name)
			}
		}
	}
}
