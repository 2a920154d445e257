//go:build !faultinject

package fault

// Point does nothing: this binary was built without -tags faultinject.
func Point(string) {}

// Enabled reports whether this binary can inject faults.
const Enabled = false
