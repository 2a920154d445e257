package awsproto_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// TestForm: lists and structures are read from index 1 up to the first gap;
// an index written otherwise (01, 0, x) or an item past a gap is Unused, as is
// every key nobody asked for.
func TestForm(t *testing.T) {
	v, _ := url.ParseQuery("Names.member.1=a&Names.member.2=b&Names.member.4=d&Names.member.01=z" +
		"&Rules.member.1.Field=host&Rules.member.1.Values.member.1=x&Rules.member.2.Field=path" +
		"&Rules.member.0.Field=zero&Rules.member.x.Field=ex&Rules.member.3=flat&Other=o")
	f := awsproto.NewForm(v)
	if got := f.List("Names"); !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("List: %q", got)
	}
	rules := f.Structs("Rules")
	if len(rules) != 2 {
		t.Fatalf("Structs: %d", len(rules))
	}
	if field, ok := rules[0].Get("Field"); !ok || field != "host" || !slices.Equal(rules[0].List("Values"), []string{"x"}) {
		t.Errorf("rule 1: %q %v %q", field, ok, rules[0].List("Values"))
	}
	if field, _ := rules[1].Get("Field"); field != "path" || rules[1].List("Values") != nil {
		t.Errorf("rule 2: %q %q", field, rules[1].List("Values"))
	}
	if _, ok := f.Get("Missing"); ok {
		t.Error("Get of a missing key: ok")
	}
	want := []string{"Names.member.01", "Names.member.4", "Other", "Rules.member.0.Field", "Rules.member.3", "Rules.member.x.Field"}
	if got := f.Unused(); !slices.Equal(got, want) {
		t.Errorf("Unused: %q, want %q", got, want)
	}
}
