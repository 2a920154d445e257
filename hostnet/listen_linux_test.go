package hostnet

import (
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

func TestListenIn(t *testing.T) {
	requireRoot(t)
	name := "vs-t" + randHex(4) + "-listen"
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "delete", name).Run() })
	ln, err := ListenIn("/run/netns/"+name, netip.MustParseAddrPort("169.254.170.2:80"), 51679)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "from the host process") }))
	// Reachable from inside the namespace...
	out, err := exec.Command("ip", "netns", "exec", name, "curl", "-s", "-m", "2", "http://169.254.170.2/").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "from the host process") {
		t.Fatalf("inside: %v %s", err, out)
	}
	// Port 80 stays free for the namespace's own programs.
	err = inNetns("/run/netns/"+name, func() error {
		own, err := net.Listen("tcp4", ":80")
		if err == nil {
			own.Close()
		}
		return err
	})
	if err != nil {
		t.Fatalf("a program of the namespace could not listen on port 80: %v", err)
	}
	// Calling it again (a restart) keeps one rule and still answers.
	ln2, err := ListenIn("/run/netns/"+name, netip.MustParseAddrPort("169.254.170.2:80"), 51680)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	go http.Serve(ln2, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "second") }))
	out, err = exec.Command("ip", "netns", "exec", name, "curl", "-s", "-m", "2", "http://169.254.170.2/").CombinedOutput()
	if err != nil || string(out) != "second" {
		t.Fatalf("after a second ListenIn: %v %s", err, out)
	}
	// ...and not from the host's own namespace.
	if route, _ := exec.Command("ip", "route", "get", "169.254.170.2").CombinedOutput(); strings.Contains(string(route), " dev lo") {
		t.Fatalf("the host itself holds 169.254.170.2: %s", route)
	}
}
