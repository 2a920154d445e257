package coral

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Timestamp is a point in time as the AWS JSON 1.1 protocol carries it: a JSON
// number of seconds since the Unix epoch, with milliseconds as its fraction.
// It marshals as AWS's Java services do, e.g. 1.732478212123E9. Members of
// timestamp shapes are *Timestamp; NewTimestamp makes one.
type Timestamp time.Time

// NewTimestamp returns t as a *Timestamp, truncated to milliseconds (AWS keeps no
// finer precision).
func NewTimestamp(t time.Time) *Timestamp {
	ts := Timestamp(t.Truncate(time.Millisecond))
	return &ts
}

// Time returns the time t stands for; the zero time when t is nil.
func (t *Timestamp) Time() time.Time {
	if t == nil {
		return time.Time{}
	}
	return time.Time(*t)
}

func (t Timestamp) String() string { return time.Time(t).UTC().Format(time.RFC3339Nano) }

// MarshalJSON renders epoch seconds as Java renders a double (AWS's JSON 1.1
// services are Java): 1.732478212123E9, 1.7324782E9.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := time.Time(t).UnixMilli()
	return []byte(javaDouble(float64(ms) / 1000)), nil
}

// UnmarshalJSON reads a JSON number of epoch seconds (clients send them so; a
// fraction is kept to the millisecond).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := strings.TrimSpace(string(b))
	if s == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) >= 1e11 {
		return fmt.Errorf("timestamp %.40q is not a number of epoch seconds", s)
	}
	sec, frac := math.Modf(f)
	*t = Timestamp(time.Unix(int64(sec), int64(math.Round(frac*1e3))*int64(time.Millisecond)))
	return nil
}

// javaDouble formats f as java.lang.Double.toString does: plain between 10^-3 and
// 10^7, else computerized scientific notation, always with a fractional digit.
func javaDouble(f float64) string {
	if f == 0 {
		return "0.0"
	}
	if a := math.Abs(f); a >= 1e-3 && a < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, 64) // 1.732478212123E+09
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	n, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(n)
}
