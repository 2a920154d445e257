package ec2query

import (
	"context"
	"log/slog"

	"github.com/vpcsim/vpcsim/vpcsim/awsproto"
	"github.com/vpcsim/vpcsim/vpcsim/awsproto/sigv4"
	ec2sim "github.com/vpcsim/vpcsim/vpcsim/ec2"
)

// STS is served because clients ask it who they are (aws sts
// get-caller-identity, SDK credential checks) before anything else. It is an
// awsquery service (awsproto.QueryService) with its own route; it lives here
// because it answers from EC2's Cloud: vpcsim has one account and no IAM, so
// the caller is always that account's root.

const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/" + stsVersion + "/"
)

// newSTS returns STS's service over c, configured as EC2's handler is.
func newSTS(c *ec2sim.Cloud, log *slog.Logger, v sigv4.Verifier, maxBody int64) *awsproto.QueryService {
	return &awsproto.QueryService{
		Service:   "sts",
		Version:   stsVersion,
		Namespace: stsNamespace,
		Actions: map[string]awsproto.QueryAction{
			"GetCallerIdentity": func(context.Context, *awsproto.QueryRequest) (any, error) {
				return getCallerIdentity(c), nil
			},
		},
		Verifier: v,
		MaxBody:  maxBody,
		Log:      log,
	}
}

type getCallerIdentityResult struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

func getCallerIdentity(c *ec2sim.Cloud) getCallerIdentityResult {
	acct := c.Account()
	return getCallerIdentityResult{Arn: "arn:aws:iam::" + acct + ":root", UserID: acct, Account: acct}
}
