// Package badinput reads and sends the bad-request corpora of the protocol
// packages' tests (testdata/badinput/*.http): each file is one raw HTTP request
// and the answer it must get. It is test support: nothing outside _test.go files
// imports it.
//
// A corpus file is a few header comments, then the request as it goes on the
// wire (LF line ends are fine; the sender writes CRLF):
//
//	# Why this request must be refused, in a sentence or two.
//	# want: 400 InvalidAction
//	# message: The action LaunchRockets is not valid for this web service.
//	POST / HTTP/1.1
//	Content-Type: application/x-www-form-urlencoded
//
//	Action=LaunchRockets&Version=2016-11-15
//
// "# want: STATUS [CODE]" is required (CODE is the AWS error code, or absent for
// a success); "# message:" is optional and then exact. "# escapes: hex" makes
// every \xNN in the body the byte NN, for bodies that a text file cannot hold.
// The file's last line end is not part of the body. Host, Content-Length and
// Connection are added by the sender unless the file has them; {{name}}
// placeholders are replaced with the values the test gives (IDs made at run time).
package badinput

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcsim/vpcsim/storage"
	"github.com/vpcsim/vpcsim/vpcsim"
)

// Case is one request of a corpus and the answer it must get.
type Case struct {
	Name    string // the file name without .http
	Status  int
	Code    string // the AWS error code; "" for a success
	Message string // the exact message; "" = not checked
	HasMsg  bool
	Raw     []byte // the request: request line, headers, blank line, body
}

// Load reads every *.http file of dir, sorted by name. A file without a
// "# want:" line is an error, so a new case cannot silently check nothing.
func Load(dir string) ([]Case, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.http"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no *.http files in %s", dir)
	}
	sort.Strings(paths)
	var out []Case
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		c, err := Parse(strings.TrimSuffix(filepath.Base(p), ".http"), b)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, c)
	}
	return out, nil
}

var hexEscape = regexp.MustCompile(`\\x[0-9a-fA-F]{2}`)

// Parse reads one corpus file.
func Parse(name string, file []byte) (Case, error) {
	c := Case{Name: name}
	escapes := false
	rest := file
	for bytes.HasPrefix(rest, []byte("#")) {
		line, after, _ := bytes.Cut(rest, []byte("\n"))
		rest = after
		text := strings.TrimSpace(strings.TrimPrefix(string(line), "#"))
		switch {
		case strings.HasPrefix(text, "want:"):
			f := strings.Fields(strings.TrimPrefix(text, "want:"))
			if len(f) == 0 || len(f) > 2 {
				return c, fmt.Errorf("want: STATUS [CODE], have %q", text)
			}
			n, err := strconv.Atoi(f[0])
			if err != nil {
				return c, fmt.Errorf("want: %q is not a status", f[0])
			}
			c.Status = n
			if len(f) == 2 {
				c.Code = f[1]
			}
		case strings.HasPrefix(text, "message:"):
			c.Message, c.HasMsg = strings.TrimSpace(strings.TrimPrefix(text, "message:")), true
		case text == "escapes: hex":
			escapes = true
		}
	}
	if c.Status == 0 {
		return c, fmt.Errorf("no '# want: STATUS [CODE]' line")
	}
	head, body, ok := bytes.Cut(rest, []byte("\n\n"))
	if !ok {
		head, body = bytes.TrimRight(rest, "\n"), nil
	}
	body = bytes.TrimSuffix(body, []byte("\n"))
	if escapes {
		body = hexEscape.ReplaceAllFunc(body, func(m []byte) []byte {
			v, _ := strconv.ParseUint(string(m[2:]), 16, 8)
			return []byte{byte(v)}
		})
	}
	c.Raw = append(append(bytes.TrimRight(head, "\n"), "\n\n"...), body...)
	return c, nil
}

// Request is a case written out with the placeholders filled in, ready to send.
func (c Case) Request(vars map[string]string) []byte {
	raw := c.Raw
	for k, v := range vars {
		raw = bytes.ReplaceAll(raw, []byte("{{"+k+"}}"), []byte(v))
	}
	return raw
}

// Send writes raw (as Case.Raw: LF line ends, the body after the first blank
// line) to addr over a fresh connection, adding the headers the file leaves out
// (extra, then Host, Content-Length unless the body is chunked, and Connection:
// close), and returns the answer
// with its body read.
func Send(addr string, raw []byte, extra http.Header) (*http.Response, []byte, error) {
	head, body, _ := bytes.Cut(raw, []byte("\n\n"))
	lines := strings.Split(string(head), "\n")
	have := map[string]bool{}
	for _, l := range lines[1:] {
		k, _, _ := strings.Cut(l, ":")
		have[http.CanonicalHeaderKey(strings.TrimSpace(k))] = true
	}
	add := func(k, v string) {
		if !have[http.CanonicalHeaderKey(k)] {
			lines = append(lines, k+": "+v)
			have[http.CanonicalHeaderKey(k)] = true
		}
	}
	for k, vs := range extra {
		add(k, vs[0])
	}
	add("Host", addr)
	if !have["Transfer-Encoding"] {
		add("Content-Length", strconv.Itoa(len(body)))
	}
	add("Connection", "close")
	var wire bytes.Buffer
	wire.WriteString(strings.Join(lines, "\r\n"))
	wire.WriteString("\r\n\r\n")
	wire.Write(body)

	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	// A server may answer (413) before reading all of a large body and close;
	// the answer is what counts, so a failed write is not an error here.
	go func() { conn.Write(wire.Bytes()) }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// Leaks reports what in an answer looks like a Go panic or stack trace, "" if
// nothing does. No answer to a client may carry one.
func Leaks(body []byte) string {
	for _, s := range []string{"goroutine ", "panic", "runtime error", ".go:", "runtime/debug"} {
		if bytes.Contains(body, []byte(s)) {
			return s
		}
	}
	return ""
}

// CountingStore is a Store that records the documents written through it, so a
// test can tell that a run of requests changed nothing that would survive a
// restart.
type CountingStore struct {
	vpcsim.Store
	mu     sync.Mutex
	writes []string
}

func (s *CountingStore) Apply(changes []storage.Change) error {
	s.mu.Lock()
	for _, c := range changes {
		s.writes = append(s.writes, c.Kind+" "+c.ID)
	}
	s.mu.Unlock()
	return s.Store.Apply(changes)
}

// Writes lists every document written so far ("kind id"), oldest first.
func (s *CountingStore) Writes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.writes...)
}

// Chunked writes b in HTTP/1.1 chunked encoding, for a case whose request has
// Transfer-Encoding: chunked.
func Chunked(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		n := min(len(b), 64<<10)
		fmt.Fprintf(&out, "%x\r\n%s\r\n", n, b[:n])
		b = b[n:]
	}
	out.WriteString("0\r\n\r\n")
	return out.Bytes()
}

// FirstDifference shows where two snapshots of a state first differ, with some
// context, for a failure message that a long snapshot would drown.
func FirstDifference(a, b string) string {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	around := func(s string) string { return s[max(0, i-80):min(len(s), i+80)] }
	return fmt.Sprintf("at byte %d\nbefore: …%s…\nafter:  …%s…", i, around(a), around(b))
}

// Runner holds what Run needs of a protocol's corpus test.
type Runner struct {
	Addr     string            // the server's host:port
	Vars     map[string]string // the values of the placeholders
	Header   http.Header       // headers every request gets unless its file has them
	Check    func(t *testing.T, c Case, resp *http.Response, body []byte)
	Snapshot func(t *testing.T) string // the whole state a client can observe
	Store    *CountingStore            // the store under the server
	Kernel   func() int                // how many dataplane calls were made so far
	Log      func() string             // the server's log
}

// Run sends every case of dir (see Load) and then the generated ones, each a
// subtest checked by r.Check, and then checks that the run as a whole changed
// nothing: the snapshot is the same, nothing was written to the store, no
// dataplane call was made, and nothing panicked.
func (r Runner) Run(t *testing.T, dir string, generated ...Case) {
	t.Helper()
	cases, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases = append(cases, generated...)
	before := r.Snapshot(t)
	writes, calls := len(r.Store.Writes()), r.Kernel()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			resp, body, err := Send(r.Addr, c.Request(r.Vars), r.Header)
			if err != nil {
				t.Fatal(err)
			}
			r.Check(t, c, resp, body)
		})
	}
	if after := r.Snapshot(t); after != before {
		t.Errorf("the corpus changed the state: %s", FirstDifference(before, after))
	}
	if got := r.Store.Writes(); len(got) != writes {
		t.Errorf("the corpus wrote to the store: %v", got[writes:])
	}
	if n := r.Kernel(); n != calls {
		t.Errorf("the corpus made %d dataplane calls", n-calls)
	}
	if strings.Contains(r.Log(), "panic serving") {
		t.Errorf("a request panicked")
	}
}
