package ssm

import (
	"context"
	"strconv"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// selected is the version a GetParameter name selects: NAME (the latest),
// NAME:VERSION or NAME:LABEL, a name also as its ARN; selector is the part
// after the name (":3", ":prod"), as answered.
type selected struct {
	rec      *paramRec
	v        *version
	selector string
}

// selectLocked finds what name selects in the region, with GetParameter's
// refusals.
func (s *Service) selectLocked(sc Scope, name string) (selected, error) {
	if n, ok := fromARN(name, sc.Region, s.account); ok {
		name = n
	} else if strings.HasPrefix(name, "arn:") {
		return selected{}, bare("ParameterNotFound")
	}
	base, sel, hasSel := strings.Cut(name, ":")
	rec, err := s.readLocked(sc, base)
	if err != nil {
		return selected{}, err
	}
	if !hasSel {
		return selected{rec: rec, v: rec.latest()}, nil
	}
	if n, err := strconv.ParseInt(sel, 10, 64); err == nil && sel != "" && sel[0] != '-' && sel[0] != '+' {
		v := rec.find(n)
		if v == nil {
			return selected{}, versionNotFound(n, base)
		}
		return selected{rec: rec, v: v, selector: ":" + sel}, nil
	}
	v := rec.labelled(sel)
	if v == nil {
		return selected{}, bare("ParameterNotFound")
	}
	return selected{rec: rec, v: v, selector: ":" + sel}, nil
}

func versionNotFound(n int64, name string) error {
	return errorf("ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", n, name)
}

// readLocked is the parameter a read names (a name, not an ARN), with
// GetParameter's refusals.
func (s *Service) readLocked(sc Scope, name string) (*paramRec, error) {
	if err := checkReadName(name); err != nil {
		return nil, err
	}
	rec, ok := s.lookupLocked(sc, name)
	if !ok {
		return nil, bare("ParameterNotFound")
	}
	return rec, nil
}

// lookupLocked is the parameter of a name (one of AWS's public ones too).
func (s *Service) lookupLocked(sc Scope, name string) (*paramRec, bool) {
	if public(name) {
		return publicRec(sc.Region, name)
	}
	return s.params.Get(paramKey(sc.Region, name))
}

// GetParameter answers a parameter's latest version, or the one its name
// selects (NAME:VERSION, NAME:LABEL). A SecureString's value is the
// plaintext only WithDecryption.
func (s *Service) GetParameter(ctx context.Context, sc Scope, in *ssmtypes.GetParameterRequest) (*ssmtypes.GetParameterResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	sel, err := s.selectLocked(sc, *in.Name)
	if err != nil {
		return nil, err
	}
	p := s.parameter(sel.rec, sel.v, decrypt(in.WithDecryption), sel.selector)
	return &ssmtypes.GetParameterResult{Parameter: &p}, nil
}

func decrypt(b *bool) bool { return b != nil && *b }

// GetParameters answers up to 10 parameters at once; a name that selects
// nothing (or that no parameter may have) is listed in InvalidParameters.
func (s *Service) GetParameters(ctx context.Context, sc Scope, in *ssmtypes.GetParametersRequest) (*ssmtypes.GetParametersResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ssmtypes.GetParametersResult{Parameters: []ssmtypes.Parameter{}, InvalidParameters: []string{}}
	seen := map[string]bool{}
	for _, name := range in.Names {
		if seen[name] {
			continue
		}
		seen[name] = true
		sel, err := s.selectLocked(sc, name)
		if err != nil {
			if _, refused := AsError(err); !refused {
				return nil, err
			}
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		out.Parameters = append(out.Parameters, s.parameter(sel.rec, sel.v, decrypt(in.WithDecryption), sel.selector))
	}
	return out, nil
}

// DeleteParameter deletes a parameter with all its versions and tags.
func (s *Service) DeleteParameter(ctx context.Context, sc Scope, in *ssmtypes.DeleteParameterRequest) (*ssmtypes.DeleteParameterResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.db.Begin()
	defer tx.Abort()
	params := s.params.In(tx)
	if err := checkName(*in.Name); err != nil {
		return nil, err
	}
	key := paramKey(sc.Region, *in.Name)
	if _, ok := params.Get(key); !ok {
		return nil, bare("ParameterNotFound")
	}
	params.Delete(key)
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &ssmtypes.DeleteParameterResult{}, nil
}

// DeleteParameters deletes up to 10 parameters in one transaction; a name
// that names none is listed in InvalidParameters.
func (s *Service) DeleteParameters(ctx context.Context, sc Scope, in *ssmtypes.DeleteParametersRequest) (*ssmtypes.DeleteParametersResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := s.db.Begin()
	defer tx.Abort()
	params := s.params.In(tx)
	out := &ssmtypes.DeleteParametersResult{DeletedParameters: []string{}, InvalidParameters: []string{}}
	for _, name := range in.Names {
		key := paramKey(sc.Region, name)
		if _, ok := params.Get(key); !ok || checkName(name) != nil {
			out.InvalidParameters = append(out.InvalidParameters, name)
			continue
		}
		params.Delete(key)
		out.DeletedParameters = append(out.DeletedParameters, name)
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return out, nil
}

// GetParameterHistory answers every version kept of a parameter, oldest
// first, up to 50 a page (default 50).
func (s *Service) GetParameterHistory(ctx context.Context, sc Scope, in *ssmtypes.GetParameterHistoryRequest) (*ssmtypes.GetParameterHistoryResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := *in.Name
	if n, ok := fromARN(name, sc.Region, s.account); ok {
		name = n
	} else if strings.HasPrefix(name, "arn:") {
		return nil, bare("ParameterNotFound")
	}
	rec, err := s.readLocked(sc, name)
	if err != nil {
		return nil, err
	}
	var all []ssmtypes.ParameterHistory
	for i := range rec.Versions {
		all = append(all, s.history(rec, &rec.Versions[i], decrypt(in.WithDecryption)))
	}
	page, next, err := pageOf(all, in.NextToken, in.MaxResults, 50,
		func(h ssmtypes.ParameterHistory) string { return strconv.FormatInt(*h.Version, 10) },
		func(h ssmtypes.ParameterHistory, cursor string) bool {
			n, err := strconv.ParseInt(cursor, 10, 64)
			return err == nil && *h.Version > n
		})
	if err != nil {
		return nil, err
	}
	return &ssmtypes.GetParameterHistoryResult{Parameters: page, NextToken: next}, nil
}
