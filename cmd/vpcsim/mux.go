package main

import (
	"net/http"
	"strings"
)

// newMux routes one listener to both protocols: JSON 1.1 requests (ECS) carry an
// X-Amz-Target header, Query requests (EC2, STS) are form posts.
func newMux(query, json, admin http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, adminPath) {
			admin.ServeHTTP(w, r)
			return
		}
		if r.Header.Get("X-Amz-Target") != "" {
			json.ServeHTTP(w, r)
			return
		}
		query.ServeHTTP(w, r)
	})
}
