package ssm

import (
	"encoding/base64"
)

// pageOf is one page of items, in the order given, and the token of the next
// page (nil on the last). A token holds the cursor of the last item handed
// out (cursor(item)); the next page starts at the first item after it
// (after(item, cursor)), so a page is right even when items came or went in
// between. max is the page size asked for, def the API's default.
func pageOf[T any](items []T, token *string, max *int32, def int, cursor func(T) string, after func(T, string) bool) ([]T, *string, error) {
	size := def
	if max != nil {
		size = int(*max)
	}
	start := 0
	if token != nil {
		b, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil || len(b) == 0 {
			return nil, nil, errorf("InvalidNextToken", "The specified token isn't valid.")
		}
		start = len(items)
		for i, it := range items {
			if after(it, string(b)) {
				start = i
				break
			}
		}
	}
	end := min(start+size, len(items))
	page := append(make([]T, 0, end-start), items[start:end]...)
	if end == len(items) {
		return page, nil, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(cursor(items[end-1])))
	return page, &next, nil
}
