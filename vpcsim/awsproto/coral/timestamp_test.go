package coral

import (
	"encoding/json"
	"testing"
	"time"
)

func TestTimestampJSON(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.UnixMilli(1732478212123), "1.732478212123E9"},
		{time.Unix(1732478212, 0), "1.732478212E9"},
		{time.Unix(1700000000, 0), "1.7E9"},
		{time.Unix(0, 0), "0.0"},
		{time.UnixMilli(1500), "1.5"},
	} {
		b, err := json.Marshal(NewTimestamp(c.t))
		if err != nil || string(b) != c.want {
			t.Errorf("Marshal(%v) = %s, %v; want %s", c.t, b, err, c.want)
		}
		var back Timestamp
		if err := json.Unmarshal(b, &back); err != nil || !back.Time().Equal(c.t) {
			t.Errorf("Unmarshal(%s) = %v, %v; want %v", b, back.Time(), err, c.t)
		}
	}
	var ts Timestamp
	for _, bad := range []string{`"2024-01-01"`, `1e400`, `true`} {
		if err := json.Unmarshal([]byte(bad), &ts); err == nil {
			t.Errorf("Unmarshal(%s) succeeded", bad)
		}
	}
}
