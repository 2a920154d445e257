package ec2query

import (
	"net/http"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
)

// FrontDoor words the refusals of vpcsim's front door (package frontdoor) for
// NewHandler's endpoint: as EC2 words its own, or as STS does for a request
// the router takes for STS's (by its Version, else its credential scope; see
// awsproto.Query). A router built from APIs words them itself.
type FrontDoor struct{}

// endpointDoors routes refusals as NewHandler routes requests; its handlers
// never serve (only Forbidden and Unauthenticated are called).
var endpointDoors = func() *awsproto.Query {
	apis := APIs(nil, nil)
	for i := range apis {
		apis[i].Handler = http.NotFoundHandler()
	}
	q, err := awsproto.NewQuery(0, apis...)
	if err != nil {
		panic(err)
	}
	return q
}()

// Forbidden answers 403 UnauthorizedOperation (STS: AccessDenied), the code
// both give a caller that may not make the call.
func (FrontDoor) Forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	endpointDoors.Forbidden(w, r, msg)
}

// Unauthenticated answers a signature refused on its header as EC2 or STS
// does (see errAuth).
func (FrontDoor) Unauthenticated(w http.ResponseWriter, r *http.Request, err error) {
	endpointDoors.Unauthenticated(w, r, err)
}

// ec2Door words the front door's refusals as EC2 does.
type ec2Door struct{}

// Forbidden answers 403 UnauthorizedOperation, EC2's code for a caller that
// may not make the call.
func (ec2Door) Forbidden(w http.ResponseWriter, _ *http.Request, msg string) {
	awsproto.WriteQueryError(w, awsproto.EC2Envelope{}, &apiError{Status: http.StatusForbidden, Code: "UnauthorizedOperation", Message: msg})
}

// Unauthenticated answers a signature refused on its header as EC2 does (see
// errAuth).
func (ec2Door) Unauthenticated(w http.ResponseWriter, _ *http.Request, err error) {
	awsproto.WriteQueryError(w, awsproto.EC2Envelope{}, errAuth(err))
}
