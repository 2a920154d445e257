package main

import (
	"net/http"
	"strings"
)

// newMux serves vpcsim's own commands (adminPath) with admin, and every AWS
// API request with api (an awsproto.Router).
func newMux(api, admin http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminPath) {
			admin.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
