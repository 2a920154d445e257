package ssm

import (
	"regexp"
	"strings"
)

// MaxHierarchyLevels is how deep a parameter's name may go: /a/b/c is 3 levels.
const MaxHierarchyLevels = 15

// A name is a word of letters, digits and . - _, or a path of such words each
// after a slash: "db-password", "/app/prod/db.url". A name with a slash must
// begin with one ("app/db" is refused); "/x" at the root is the same
// parameter as "x" (rootName).
var nameRE = regexp.MustCompile(`^(?:[a-zA-Z0-9_.\-]+|(?:/[a-zA-Z0-9_.\-]+)+)$`)

// Refusals of names, in AWS's words.
const (
	msgPrefixed = `Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`
	msgBadPath  = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	// msgBadFilterPath is how GetParametersByPath refuses its Path, and
	// DescribeParameters a Path filter; the backslashes before the quotes
	// around aws and ssm are in AWS's message.
	msgBadFilterPath = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`
	msgCommonFilter  = `Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.`
	// msgHierarchy is the API reference's description of the exception.
	msgHierarchy = "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the AWS Systems Manager User Guide."
)

// isPath reports whether a name is hierarchical: it has a slash past its first character.
func isPath(name string) bool {
	return strings.Count(name, "/") > 1 || (strings.Contains(name, "/") && !strings.HasPrefix(name, "/"))
}

// reservedPrefix reports whether a name starts with aws or ssm, case aside,
// after its leading slash: names only AWS may create.
func reservedPrefix(name string) bool {
	l := strings.ToLower(strings.TrimPrefix(name, "/"))
	return strings.HasPrefix(l, "aws") || strings.HasPrefix(l, "ssm")
}

// public reports whether a name is in AWS's public namespace (/aws/…).
func public(name string) bool { return strings.HasPrefix(strings.ToLower(name), "/aws/") }

// checkName refuses a name a caller may not create, change or delete, as
// PutParameter refuses it: names of AWS's own (/aws/…) with
// AccessDeniedException, others starting with aws or ssm, malformed ones and
// those deeper than 15 levels with AWS's ValidationException and
// HierarchyLevelLimitExceededException.
func checkName(name string) error {
	if reservedPrefix(name) {
		switch {
		case isPath(name) && public(name):
			return errorf("AccessDeniedException", "No access to reserved parameter name: %s.", name)
		case isPath(name):
			return validation(msgBadPath)
		default:
			return validation(msgPrefixed)
		}
	}
	return checkForm(name)
}

// checkForm refuses a malformed name, or one too deep.
func checkForm(name string) error {
	if !nameRE.MatchString(name) {
		return validation(msgBadPath)
	}
	if strings.Count(name, "/") > MaxHierarchyLevels {
		return errorf("HierarchyLevelLimitExceededException", msgHierarchy)
	}
	return nil
}

// checkReadName refuses a name no parameter can have, as GetParameter does:
// AWS's public names (/aws/…) may be read.
func checkReadName(name string) error {
	if reservedPrefix(name) && !public(name) && isPath(name) {
		return validation(msgBadPath)
	}
	if public(name) {
		return nil
	}
	if reservedPrefix(name) {
		return bare("ParameterNotFound")
	}
	return checkForm(name)
}

// rootName is the name a parameter is kept under: a name at the root is the
// same parameter with or without its slash ("/x" is "x"), as on AWS.
func rootName(name string) string {
	if strings.Count(name, "/") == 1 && strings.HasPrefix(name, "/") {
		return name[1:]
	}
	return name
}

// paramKey is a parameter's key in the store: its region and root name
// (a colon is in neither).
func paramKey(region, name string) string { return region + ":" + rootName(name) }

// arnOf is a parameter's ARN: arn:aws:ssm:REGION:ACCOUNT:parameter/NAME,
// the name without its leading slash (parameter/app/db for /app/db).
func arnOf(region, account, name string) string {
	return "arn:aws:ssm:" + region + ":" + account + ":parameter/" + strings.TrimPrefix(name, "/")
}

// fromARN reads the name of a parameter's ARN ("" when s is not one of this
// account's in region): GetParameter and friends take either.
func fromARN(s, region, account string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:ssm:"+region+":")
	if !ok {
		return "", false
	}
	acct, name, ok := strings.Cut(rest, ":parameter/")
	if !ok || (acct != account && acct != "") {
		return "", false
	}
	if strings.Contains(name, "/") || acct == "" {
		return "/" + name, true
	}
	return name, true
}
