package taskmeta

import (
	"encoding/json"
	"net/http"
)

// FrontDoor words the refusals of vpcsim's front door (package frontdoor) as
// the endpoint words its errors, as the ECS agent does: a JSON string.
type FrontDoor struct{}

// Forbidden answers 403 with msg.
func (FrontDoor) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	json.NewEncoder(w).Encode(msg)
}

// Unauthenticated answers 403 with the refusal: the endpoint asks for no
// signature, so it never refuses one.
func (f FrontDoor) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	f.Forbidden(w, r, err.Error())
}
