package ec2query

import (
	"encoding/base64"
	"strconv"
	"strings"
)

// Paging is done here, generically, over the full list the domain returns: the
// domain answers "which resources match", the protocol answers "which page".

// pageParams is embedded by every Describe request whose model has MaxResults and
// NextToken. check validates them (before DryRun, like every parameter) and
// remembers the offset the token stands for.
type pageParams struct {
	MaxResults *int    `query:"MaxResults"`
	NextToken  *string `query:"NextToken"`

	offset int // decoded from NextToken
}

func (p *pageParams) paging() *pageParams { return p }

// maxResultsRange is where AWS documents a range the model does not state.
var maxResultsRange = map[string][2]int{
	"DescribeInstances": {5, 1000}, // "You can specify a value between 5 and 1000."
	// "This value can be between 1 and 200."
	"DescribeLaunchTemplateVersions": {1, 200},
	"DescribeTags":                   {5, 1000}, // "This value can be between 5 and 1000."
	"DescribeVolumes":                {5, 500},  // "This value can be between 5 and 500"
}

func rangeOf(action string) (lo, hi int) {
	if r, ok := maxResultsRange[action]; ok {
		return r[0], r[1]
	}
	r := modelMaxResults[action]
	return r[0], r[1]
}

// check validates MaxResults against the operation's range and decodes NextToken.
// The texts are AWS's ("Value ( 1 ) for parameter maxResults is invalid.
// Expecting a value greater than 5."; "Value (  ) for parameter NextToken is
// invalid. The token is invalid."); the upper-bound text is unverified.
func (p *pageParams) check(action string) error {
	if p.MaxResults != nil {
		lo, hi := rangeOf(action)
		n := *p.MaxResults
		if lo > 0 && n < lo {
			return errInvalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than %d.", n, lo)
		}
		if hi > 0 && n > hi {
			return errInvalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value less than %d.", n, hi)
		}
		if n < 1 {
			return errInvalidValue("Value ( %d ) for parameter maxResults is invalid. Expecting a value greater than 0.", n)
		}
	}
	if p.NextToken != nil && *p.NextToken == "" && !emptyTokenRefused[action] {
		p.NextToken = nil // most Describe operations take an empty token as none
	}
	if p.NextToken != nil {
		off, ok := parseToken(action, *p.NextToken)
		if !ok {
			return errInvalidValue("Value ( %s ) for parameter NextToken is invalid. The token is invalid.", *p.NextToken)
		}
		p.offset = off
	}
	return nil
}

// emptyTokenRefused are the operations seen refusing NextToken="" (boto3 issue
// 2673: "Value (  ) for parameter NextToken is invalid. The token is invalid."
// from DescribeVpcs, while DescribeSecurityGroups accepted it).
var emptyTokenRefused = map[string]bool{"DescribeVpcs": true}

// tokenPrefix versions the token format, so a later format can refuse old tokens.
const tokenPrefix = "v1:"

// makeToken encodes where the next page starts. Tokens are opaque to clients and
// bound to their operation: one operation's token is invalid for another.
func makeToken(action string, offset int) string {
	return base64.RawURLEncoding.EncodeToString([]byte(tokenPrefix + action + ":" + strconv.Itoa(offset)))
}

func parseToken(action, tok string) (int, bool) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, false
	}
	rest, ok := strings.CutPrefix(string(b), tokenPrefix+action+":")
	if !ok {
		return 0, false
	}
	off, err := strconv.Atoi(rest)
	if err != nil || off < 0 || strconv.Itoa(off) != rest {
		return 0, false
	}
	return off, true
}

// page cuts the page p asks for out of all, and the token of the next page
// ("" when this page is the last). Without MaxResults every remaining item is
// returned, as AWS does.
func page[T any](action string, all []T, p *pageParams) ([]T, string) {
	off := min(p.offset, len(all))
	rest := all[off:]
	if p.MaxResults == nil || len(rest) <= *p.MaxResults {
		return rest, ""
	}
	n := *p.MaxResults
	return rest[:n], makeToken(action, off+n)
}
