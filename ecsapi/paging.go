package ecsapi

import (
	"encoding/base64"
	"strconv"
)

// page cuts one page out of a List answer. The token is the offset of the next
// item, opaque to callers; maxResults is 1–100 (default 100) as ECS's are.
func page[T any](all []T, maxResults *int32, nextToken *string) ([]T, *string, error) {
	limit := 100
	if maxResults != nil {
		if *maxResults < 1 || *maxResults > 100 {
			return nil, nil, invalidParam("maxResults must be between 1 and 100.")
		}
		limit = int(*maxResults)
	}
	start := 0
	if nextToken != nil && *nextToken != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*nextToken)
		n, aerr := strconv.Atoi(string(raw))
		if err != nil || aerr != nil || n < 0 || n > len(all) {
			return nil, nil, invalidParam("Invalid token %s", *nextToken)
		}
		start = n
	}
	end := min(start+limit, len(all))
	var next *string
	if end < len(all) {
		next = str(base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end))))
	}
	return all[start:end], next, nil
}
