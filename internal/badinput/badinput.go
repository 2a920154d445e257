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
	"time"
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
