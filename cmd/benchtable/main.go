// Command benchtable runs a `go test -bench` command, passes its output through
// as it comes, and ends with the benchmarks' figures as tables and the time
// each one took; it exits with the command's status. `make bench` runs it:
//
//	go run ./cmd/benchtable go test -v -run '^$' -bench . ./...
//
// Run go test with -v: a benchmark's name, printed alone when it begins, is
// how the time each one took is known.
//
// Consecutive results of one benchmark (or of one package's benchmarks that
// have no sub-benchmarks) that report the same metrics make one table: a row
// per result, a column per metric, rates (units ending in /s) first. ns/op is
// left out of a result that reports metrics of its own.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: benchtable go test -bench ... PACKAGES")
		os.Exit(2)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stderr = os.Stdin, os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	start, load := time.Now(), loadavg()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	p := newParser(start)
	// Through at once, not a line later: go test prints a benchmark's name
	// when it starts and its figures when it ends.
	sc := bufio.NewScanner(io.TeeReader(out, os.Stdout))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		p.line(sc.Text(), time.Now())
	}
	err = cmd.Wait()
	fmt.Println()
	p.write(os.Stdout, time.Since(start))
	// Figures of a busy machine are not this machine's: say how busy it was.
	fmt.Printf("load average (1, 5, 15 min) at the start %s, at the end %s\n", load, loadavg())
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	} else if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

// result is one benchmark's line of figures.
type result struct {
	pkg, name string // name without "Benchmark" and the -GOMAXPROCS suffix
	units     []string
	values    map[string]string
	took      time.Duration // since it began (go test -v prints the name then)
}

// group is the key of the table a result goes in.
func (r result) group() string {
	top, _, sub := strings.Cut(r.name, "/")
	if !sub {
		top = ""
	}
	return r.pkg + "\x00" + top + "\x00" + strings.Join(r.units, " ")
}

// span is how long a top-level benchmark took, its set-up and clean-up included.
type span struct {
	pkg, name string
	took      time.Duration
}

type parser struct {
	pkg      string
	last     time.Time            // of the previous line of figures or package
	began    map[string]time.Time // when each benchmark began, by package and name
	top      string               // the top-level benchmark under way
	results  []result
	spans    []span
	notes    []string // skipped and failed benchmarks
	packages []string // "ok  pkg  12.3s" lines, as printed
}

func newParser(start time.Time) *parser {
	return &parser{last: start, began: map[string]time.Time{}}
}

var (
	started = regexp.MustCompile(`^Benchmark(\S+)$`)
	figures = regexp.MustCompile(`Benchmark(\S+?)(?:-\d+)?\s+\d+((?:\s+[-+0-9.eE]+ \S+)+)\s*$`)
	pair    = regexp.MustCompile(`([-+0-9.eE]+) (\S+)`)
	ended   = regexp.MustCompile(`^--- (SKIP|FAIL): Benchmark(\S+)`)
	done    = regexp.MustCompile(`^(ok|FAIL)\s+(\S+)\s+(\S+)`)
)

func (p *parser) line(s string, now time.Time) {
	if pkg, ok := strings.CutPrefix(s, "pkg: "); ok {
		p.pkg, p.last = pkg, now
		return
	}
	if m := started.FindStringSubmatch(s); m != nil {
		p.began[p.pkg+" "+m[1]] = now
		if !strings.Contains(m[1], "/") {
			p.endTop(now)
			p.top = m[1]
		}
		return
	}
	if m := ended.FindStringSubmatch(s); m != nil {
		p.notes = append(p.notes, fmt.Sprintf("%s: %s %s", map[string]string{"SKIP": "skipped", "FAIL": "failed"}[m[1]], p.pkg, m[2]))
		return
	}
	if s == "PASS" || s == "FAIL" {
		p.endTop(now)
		return
	}
	if m := done.FindStringSubmatch(s); m != nil {
		p.endTop(now)
		p.packages = append(p.packages, fmt.Sprintf("%-4s %s %s", m[1], m[2], m[3]))
		return
	}
	m := figures.FindStringSubmatch(s)
	if m == nil {
		return
	}
	r := result{pkg: p.pkg, name: m[1], values: map[string]string{}, took: now.Sub(p.last)}
	if began, ok := p.began[p.pkg+" "+m[1]]; ok {
		r.took = now.Sub(began)
	}
	p.last = now
	for _, f := range pair.FindAllStringSubmatch(m[2], -1) {
		switch f[2] {
		case "B/op", "allocs/op":
			continue
		}
		r.units = append(r.units, f[2])
		r.values[f[2]] = f[1]
	}
	if len(r.units) > 1 {
		r.units = slices.DeleteFunc(r.units, func(u string) bool { return u == "ns/op" })
	}
	// Rates first, then the rest in the order go test prints them (by name).
	slices.SortStableFunc(r.units, func(a, b string) int {
		ra, rb := strings.HasSuffix(a, "/s"), strings.HasSuffix(b, "/s")
		switch {
		case ra && !rb:
			return -1
		case rb && !ra:
			return 1
		}
		return 0
	})
	p.results = append(p.results, r)
}

// endTop records how long the top-level benchmark under way took.
func (p *parser) endTop(now time.Time) {
	if p.top == "" {
		return
	}
	p.spans = append(p.spans, span{p.pkg, p.top, now.Sub(p.began[p.pkg+" "+p.top])})
	p.top = ""
}

// write prints the tables, then where the time went.
func (p *parser) write(w io.Writer, total time.Duration) {
	for i := 0; i < len(p.results); {
		j := i + 1
		for j < len(p.results) && p.results[j].group() == p.results[i].group() {
			j++
		}
		writeTable(w, p.results[i:j])
		i = j
	}
	for _, n := range p.notes {
		fmt.Fprintln(w, n)
	}
	if len(p.notes) > 0 {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "where the time went (each benchmark with its set-up and clean-up; a package's line adds its build and TestMain):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range p.spans {
		fmt.Fprintf(tw, "  %s\t%s\t%.1fs\n", s.pkg, s.name, s.took.Seconds())
	}
	tw.Flush()
	for _, l := range p.packages {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "total %s\n", total.Round(time.Second))
}

func writeTable(w io.Writer, rs []result) {
	first := rs[0]
	top, _, sub := strings.Cut(first.name, "/")
	title := first.pkg
	if sub {
		title += " " + top
	}
	fmt.Fprintf(w, "%s\n", title)
	labels, width := make([]string, len(rs)), 0
	for i, r := range rs {
		labels[i] = r.name
		if sub {
			labels[i] = strings.TrimPrefix(r.name, top+"/")
		}
		width = max(width, len(labels[i]))
	}
	// Figures aligned right; labels, padded to one width, stay left.
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "%*s\t%s\ttook\t\n", width, "", strings.Join(first.units, "\t"))
	for i, r := range rs {
		fmt.Fprintf(tw, "%-*s\t", width, labels[i])
		for _, u := range r.units {
			fmt.Fprintf(tw, "%s\t", r.values[u])
		}
		fmt.Fprintf(tw, "%.1fs\t\n", r.took.Seconds())
	}
	tw.Flush()
	fmt.Fprintln(w)
}
