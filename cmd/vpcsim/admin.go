package main

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/vpcsim/vpcsim/hostnet"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
	"github.com/vpcsim/vpcsim/vpcsim/netmodel"
)

// adminPath starts the requests of vpcsim's own commands (connect, disconnect,
// sg explain) to a running server: not AWS API, so neither protocol serves them.
const adminPath = "/_vpcsim/"

// adminHandler serves the commands that need the running server's model:
//
//	POST /_vpcsim/connect?vpc=ID      → {"vpcId", "cidr", "hostAddress"}
//	POST /_vpcsim/disconnect?vpc=ID   → {"vpcId", "cidr"}
//	GET  /_vpcsim/sg/explain?eni=ID&from=IP&port=N&proto=P → {"admitted", "lines"}
//
// Errors answer {"error": "..."}. These change the host's own routes: with
// access keys (v) a request must be signed by one, as every API call must be
// (the commands sign with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY);
// without, only loopback clients are served.
func adminHandler(cloud *ec2sim.Cloud, log *slog.Logger, v sigv4.Verifier) http.Handler {
	mux := http.NewServeMux()
	connect := func(on bool) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			v, err := cloud.ConnectVPC(r.Context(), r.URL.Query().Get("vpc"), on)
			if err != nil {
				adminError(w, log, err)
				return
			}
			out := map[string]string{"vpcId": v.ID, "cidr": v.CIDR.String()}
			if on {
				out["hostAddress"] = ec2sim.ConnectAddr(v.CIDR).String()
			}
			writeAdmin(w, http.StatusOK, out)
		}
	}
	mux.HandleFunc("POST "+adminPath+"connect", connect(true))
	mux.HandleFunc("POST "+adminPath+"disconnect", connect(false))
	mux.HandleFunc("GET "+adminPath+"sg/explain", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		from, err := netip.ParseAddr(q.Get("from"))
		if err != nil {
			writeAdmin(w, http.StatusBadRequest, map[string]string{"error": "--from must be an IPv4 address"})
			return
		}
		proto, err := ec2sim.ParseProto(q.Get("proto"))
		if err != nil {
			writeAdmin(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		port, err := strconv.Atoi(q.Get("port"))
		if err != nil && (proto == netmodel.ProtoTCP || proto == netmodel.ProtoUDP) {
			writeAdmin(w, http.StatusBadRequest, map[string]string{"error": "--port must be a number"})
			return
		}
		x, err := cloud.ExplainSecurityGroups(q.Get("eni"), from.Unmap(), proto, port)
		if err != nil {
			adminError(w, log, err)
			return
		}
		writeAdmin(w, http.StatusOK, map[string]any{"admitted": x.Admitted, "lines": x.Lines})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v != nil {
			// The front door has read the body, within its bounds.
			body, err := io.ReadAll(r.Body)
			if err == nil {
				err = sigv4.Authenticate(r, body, v)
			}
			if err != nil {
				log.Info("admin signature refused", "err", err)
				adminDoor{}.Unauthenticated(w, r, err)
				return
			}
			mux.ServeHTTP(w, r)
			return
		}
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if a, err := netip.ParseAddr(host); err != nil || !a.Unmap().IsLoopback() {
			adminDoor{}.Forbidden(w, r, "vpcsim's own commands are served to loopback clients only")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// adminDoor words refusals as vpcsim's commands read them: {"error": "..."}.
type adminDoor struct{}

func (adminDoor) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	writeAdmin(w, http.StatusForbidden, map[string]string{"error": msg})
}

func (adminDoor) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	msg := err.Error()
	var e *sigv4.Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	writeAdmin(w, http.StatusForbidden, map[string]string{"error": "this vpcsim serves requests signed with its access keys only (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to one of them): " + msg})
}

func adminError(w http.ResponseWriter, log *slog.Logger, err error) {
	api, isAPI := ec2sim.AsAPIError(err)
	switch {
	case isAPI:
		writeAdmin(w, http.StatusBadRequest, map[string]string{"error": api.Message, "code": api.Code})
	case errors.Is(err, hostnet.ErrRouteOverlap):
		writeAdmin(w, http.StatusConflict, map[string]string{"error": err.Error()})
	default:
		log.Error("admin request", "err", err)
		writeAdmin(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	}
}

func writeAdmin(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
