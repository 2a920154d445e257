package ec2

import (
	"path/filepath"
	"regexp"
	"strings"
)

// Flow log destination types (CreateFlowLogs LogDestinationType).
const (
	FlowDestCloudWatch = "cloud-watch-logs"
	FlowDestS3         = "s3"
	FlowDestFirehose   = "kinesis-data-firehose"
	// FlowDestFile is vpcsim's own: LogDestination is an absolute local path
	// that records are appended to, below <data-dir>/flowlogs/file or below a
	// directory the operator opened (serve --host-path).
	FlowDestFile = "file"
)

// flowLogSpec is a checked CreateFlowLogs request: the flow log every resource
// gets, less what is per resource, and the request's fingerprint.
type flowLogSpec struct {
	log         FlowLog
	fingerprint string
}

// checkFlowLogInput validates what a CreateFlowLogs request asks as a whole,
// before any resource is looked at. The texts are EC2's where known: the
// destination ones are verified; the aggregation interval and
// DeliverLogsPermissionArn ones follow moto, which follows EC2's form.
func (c *Cloud) checkFlowLogInput(s Scope, in *CreateFlowLogsInput) (flowLogSpec, error) {
	if len(in.ResourceIDs) == 0 {
		return flowLogSpec{}, missingParameter("ResourceId")
	}
	switch in.ResourceType {
	case "":
		return flowLogSpec{}, missingParameter("ResourceType")
	case FlowLogVPC, FlowLogSubnet, FlowLogENI:
		switch in.TrafficType {
		case "":
			return flowLogSpec{}, missingParameter("TrafficType")
		case "ALL", "ACCEPT", "REJECT":
		default:
			return flowLogSpec{}, invalidValue("Value (%s) for parameter TrafficType is invalid.", in.TrafficType)
		}
	case "TransitGateway", "TransitGatewayAttachment", "RegionalNatGateway":
	default:
		return flowLogSpec{}, invalidValue("Value (%s) for parameter ResourceType is invalid.", in.ResourceType)
	}
	interval := 600
	if in.MaxAggregationInterval != nil {
		interval = *in.MaxAggregationInterval
		if interval != 60 && interval != 600 {
			return flowLogSpec{}, Errorf("InvalidParameter", "Invalid Flow Log Max Aggregation Interval")
		}
	}
	format := DefaultFlowLogFormat
	if in.LogFormat != nil {
		format = *in.LogFormat
		if _, err := parseFlowFormat(format); err != nil {
			return flowLogSpec{}, err
		}
	}
	log := FlowLog{
		TrafficType: in.TrafficType, DeliverLogsPermissionArn: in.DeliverLogsPermissionArn,
		LogFormat: format, MaxAggregationInterval: interval,
	}
	if err := c.checkFlowDestination(s, *in, &log); err != nil {
		return flowLogSpec{}, err
	}
	if err := checkTags(in.Tags); err != nil {
		return flowLogSpec{}, err
	}
	return flowLogSpec{log: log, fingerprint: requestFingerprint(s, *in)}, nil
}

// logGroupName is what CloudWatch Logs allows in a log group's name.
var logGroupName = regexp.MustCompile(`^[.\-_/#A-Za-z0-9]{1,512}$`)

// s3Bucket is what S3 allows in a bucket's name.
var s3Bucket = regexp.MustCompile(`^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$`)

// checkFlowDestination sets the flow log's destination from the request:
// its type, the destination's ARN (or path), and the log group's name.
func (c *Cloud) checkFlowDestination(s Scope, in CreateFlowLogsInput, f *FlowLog) error {
	typ := in.LogDestinationType
	if typ == "" {
		typ = FlowDestCloudWatch
	}
	switch {
	case in.LogGroupName != "" && in.LogDestination != "":
		return Errorf("InvalidParameter", "Please only provide LogGroupName or only provide LogDestination.")
	case in.LogGroupName != "" && typ != FlowDestCloudWatch:
		return Errorf("InvalidParameter", "LogDestination type must be cloud-watch-logs if LogGroupName is provided.")
	case in.LogGroupName == "" && in.LogDestination == "":
		return Errorf("InvalidParameter", "LogDestination can't be empty if LogGroupName is not provided.")
	}
	f.LogDestinationType, f.LogDestination = typ, in.LogDestination
	// (unverified) the text for a destination of the wrong form.
	bad := Errorf("InvalidParameter", "Invalid LogDestination: %s", in.LogDestination)
	switch typ {
	case FlowDestCloudWatch:
		if in.DeliverLogsPermissionArn == "" {
			return Errorf("InvalidParameter", "DeliverLogsPermissionArn can't be empty if LogDestinationType is cloud-watch-logs.")
		}
		f.LogGroupName = in.LogGroupName
		if in.LogDestination == "" {
			f.LogDestination = "arn:aws:logs:" + s.Region + ":" + c.account + ":log-group:" + in.LogGroupName
		} else {
			region, rest, ok := parseARN(in.LogDestination, "logs")
			name, isGroup := strings.CutPrefix(rest, "log-group:")
			if !ok || !isGroup {
				return bad
			}
			if region != s.Region {
				return Errorf("InvalidParameter", "LogDestination must be in the same region as the API caller.")
			}
			f.LogGroupName = strings.TrimSuffix(name, ":*")
		}
		if !logGroupName.MatchString(f.LogGroupName) {
			return invalidValue("Invalid log group name: %s", f.LogGroupName)
		}
	case FlowDestS3:
		// The prefix may not start with AWSLogs: S3 destinations add that level.
		_, prefix, ok := s3Destination(in.LogDestination)
		if !ok || strings.Split(prefix, "/")[0] == "AWSLogs" {
			return bad
		}
	case FlowDestFirehose:
		region, rest, ok := parseARN(in.LogDestination, "firehose")
		if !ok || !strings.HasPrefix(rest, "deliverystream/") || len(rest) == len("deliverystream/") {
			return bad
		}
		if region != s.Region {
			return Errorf("InvalidParameter", "LogDestination must be in the same region as the API caller.")
		}
	case FlowDestFile:
		if !filepath.IsAbs(in.LogDestination) || strings.ContainsRune(in.LogDestination, 0) {
			return bad
		}
		// vpcsim runs as root: a request may name no file outside what the
		// operator gave it.
		if _, _, ok := c.flowLogs.rec.fileRoot(in.LogDestination); !ok {
			where := "beneath a directory opened with vpcsim serve --host-path"
			if d := c.flowLogs.rec.data.Dir(); d != "" {
				where = "beneath " + filepath.Join(d, fileTree) + " or " + where
			}
			return Errorf("InvalidParameter", "Invalid LogDestination: %s. A file destination must lie %s.", in.LogDestination, where)
		}
	default:
		return invalidValue("Value (%s) for parameter LogDestinationType is invalid.", typ)
	}
	return nil
}

// parseARN splits "arn:PARTITION:SERVICE:REGION:ACCOUNT:REST" of the given
// service into its region and what follows the account.
func parseARN(arn, service string) (region, rest string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] != service || p[3] == "" || p[5] == "" {
		return "", "", false
	}
	return p[3], p[5], true
}

// s3Destination splits "arn:aws:s3:::BUCKET[/PREFIX]" into the bucket and the
// prefix (without slashes at its ends).
func s3Destination(arn string) (bucket, prefix string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || p[1] == "" || p[2] != "s3" || p[3] != "" || p[4] != "" {
		return "", "", false
	}
	bucket, prefix, _ = strings.Cut(p[5], "/")
	return bucket, strings.Trim(prefix, "/"), s3Bucket.MatchString(bucket)
}

// firehoseStream is the delivery stream's name in a Firehose ARN.
func firehoseStream(arn string) string {
	_, rest, _ := parseARN(arn, "firehose")
	return strings.TrimPrefix(rest, "deliverystream/")
}
