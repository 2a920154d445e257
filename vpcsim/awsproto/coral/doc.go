// Package coral is what AWS's JSON 1.1 services, Java services of one
// framework (Coral), do alike with the shapes of a request, for every JSON
// API vpcsim serves (ECS, SSM): Decode reads a body into a generated shape
// as their deserializer does and words its refusals as it words them
// (SerializationException); Constraints.Validate checks the model's
// constraints recorded in the shapes' tags and words a violation as their
// validator does ("1 validation error detected: …"); Timestamp is a
// timestamp member, epoch seconds rendered as Java renders a double.
//
// Each service's generated shapes (ecsapi/ecstypes, vpcsim/ssm/ssmtypes, by
// ecsapi/ecstypes/gen/genshapes.py) carry the tags and the tables this
// package reads; the names of the exceptions a violation becomes differ by
// service and are the protocol package's to choose.
package coral
