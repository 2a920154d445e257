package main

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// ecsTargetPrefix marks an ECS JSON 1.1 request.
const ecsTargetPrefix = "AmazonEC2ContainerServiceV20141113."

// newMux routes one listener to both protocols: JSON requests by X-Amz-Target,
// Query requests (EC2, STS) by form.
func newMux(query http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			jsonUnsupported(w, target)
			return
		}
		query.ServeHTTP(w, r)
	})
}

// jsonUnsupported answers JSON-protocol operations that vpcsim does not serve yet
// in the shape the SDKs parse.
func jsonUnsupported(w http.ResponseWriter, target string) {
	op := target[strings.LastIndexByte(target, '.')+1:]
	msg := "The operation " + op + " is not supported by vpcsim yet."
	if !strings.HasPrefix(target, ecsTargetPrefix) {
		msg = "Unknown target " + target + "."
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": "UnknownOperationException", "message": msg})
}
