package ssm

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/vpcsim/vpcsim/vpcsim/ssm/ssmtypes"
)

// MaxLabels is how many labels a version may carry.
const MaxLabels = 10

// A label is up to 100 letters, digits, periods, hyphens and underscores,
// not starting with a digit, nor with aws or ssm (case aside).
var labelRE = regexp.MustCompile(`^[a-zA-Z0-9_.\-]{1,100}$`)

func validLabel(l string) bool {
	low := strings.ToLower(l)
	return labelRE.MatchString(l) && !(l[0] >= '0' && l[0] <= '9') &&
		!strings.HasPrefix(low, "aws") && !strings.HasPrefix(low, "ssm")
}

// editLocked stages a change of an existing parameter of the caller's.
func (s *Service) editLocked(sc Scope, name string, change func(*paramRec) error) error {
	if err := checkName(name); err != nil {
		return err
	}
	tx := s.db.Begin()
	defer tx.Abort()
	params := s.params.In(tx)
	old, ok := params.Get(paramKey(sc.Region, name))
	if !ok {
		return bare("ParameterNotFound")
	}
	rec := old.clone()
	if err := change(rec); err != nil {
		return err
	}
	params.Put(rec)
	return tx.Commit()
}

// LabelParameterVersion attaches labels to a version (the latest when none
// is named), moving each from the version that had it. Labels that no
// version may carry are answered in InvalidLabels and not attached.
func (s *Service) LabelParameterVersion(ctx context.Context, sc Scope, in *ssmtypes.LabelParameterVersionRequest) (*ssmtypes.LabelParameterVersionResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ssmtypes.LabelParameterVersionResult{InvalidLabels: []string{}}
	err := s.editLocked(sc, *in.Name, func(r *paramRec) error {
		v := r.latest()
		if in.ParameterVersion != nil {
			if v = r.find(*in.ParameterVersion); v == nil {
				return versionNotFound(*in.ParameterVersion, *in.Name)
			}
		}
		var add []string
		for _, l := range in.Labels {
			switch {
			case !validLabel(l):
				out.InvalidLabels = append(out.InvalidLabels, l)
			case !slices.Contains(v.Labels, l) && !slices.Contains(add, l):
				add = append(add, l)
			}
		}
		if len(v.Labels)+len(add) > MaxLabels {
			return errorf("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum 10 labels. Move one or more labels to another version and try again.")
		}
		for i := range r.Versions {
			r.Versions[i].Labels = slices.DeleteFunc(r.Versions[i].Labels, func(l string) bool { return slices.Contains(add, l) })
		}
		v.Labels = append(v.Labels, add...)
		out.ParameterVersion = ssmtypes.Ptr(v.Version)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// UnlabelParameterVersion removes labels from a version; those it does not
// carry are answered in InvalidLabels.
func (s *Service) UnlabelParameterVersion(ctx context.Context, sc Scope, in *ssmtypes.UnlabelParameterVersionRequest) (*ssmtypes.UnlabelParameterVersionResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := &ssmtypes.UnlabelParameterVersionResult{RemovedLabels: []string{}, InvalidLabels: []string{}}
	err := s.editLocked(sc, *in.Name, func(r *paramRec) error {
		v := r.find(*in.ParameterVersion)
		if v == nil {
			return versionNotFound(*in.ParameterVersion, *in.Name)
		}
		for _, l := range in.Labels {
			if i := slices.Index(v.Labels, l); i >= 0 {
				v.Labels = slices.Delete(v.Labels, i, i+1)
				out.RemovedLabels = append(out.RemovedLabels, l)
			} else {
				out.InvalidLabels = append(out.InvalidLabels, l)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
